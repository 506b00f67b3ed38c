import Testing
@testable import DevenvManifest

/// Exact error messages: the wording is part of the user interface.
@Test func allSchemaErrorsAreReportedAtOnce() throws {
    let source = """
        imagee = "x"
        [base]
        image = 5
        [[stpe]]
        [[step]]
        rnu = "make"
        [[step]]
        run = "make"
        copy = ["a"]
        [[step]]
        env = ["A=B"]
        [[step]]
        copy = "x"
        network = "none"
        [shell]
        mount = "relative"
        shel = "/bin/bash"
        [tasks]
        fmt = 5
        """
    let error = try #require(manifestError(source))
    #expect(error.description == """
        .devenv/devenv.toml:1:1: error: unknown key 'imagee' (did you mean 'image' in [base]?)
        .devenv/devenv.toml:3:9: error: base.image: expected a string, found an integer
        .devenv/devenv.toml:4:3: error: unknown key 'stpe' (did you mean 'step'?)
        .devenv/devenv.toml:5:1: error: step[1]: a step needs one of 'run', 'copy', 'env', 'workdir', 'user' or 'packages'
        .devenv/devenv.toml:6:1: error: unknown key 'rnu' in [[step]] (did you mean 'run'?)
        .devenv/devenv.toml:9:1: error: step[2]: a step must have exactly one of 'run', 'copy', 'env', 'workdir', 'user' or 'packages', found 'run' and 'copy' (write one [[step]] for each)
        .devenv/devenv.toml:11:7: error: step[3].env: expected a table, found an array
        .devenv/devenv.toml:14:1: error: step[4].network: 'network' is only valid in a 'run' step
        .devenv/devenv.toml:16:9: error: shell.mount: must be an absolute path, found 'relative'
        .devenv/devenv.toml:17:1: error: unknown key 'shel' in [shell] (did you mean 'shell'?)
        .devenv/devenv.toml:19:7: error: tasks.fmt: expected a string, an array of strings or a table, found an integer
        """)
}

@Test func renderShowsEachSourceLineWithACaret() throws {
    let source = "[base]\nimage = \"debian\"\n\n[[step]]\n\tstpe = \"x\"\nworkdir = \"app\"\n"
    let error = try #require(manifestError(source))
    #expect(error.render() == """
        .devenv/devenv.toml:5:2: error: unknown key 'stpe' in [[step]]
         5 |  stpe = "x"
           |  ^~~~

        .devenv/devenv.toml:6:11: error: step[1].workdir: must be an absolute path, found 'app'
         6 | workdir = "app"
           |           ^~~~~
        """)
}

@Test func emptyFileNeedsBase() throws {
    let error = try #require(manifestError(""))
    #expect(error.description == ".devenv/devenv.toml:1:1: error: missing required table [base] (with image = \"NAME[:TAG]\" or distro = \"debian:bookworm\")")
    #expect(error.render().hasSuffix(" 1 | \n   | ^"))
}

@Test func missingImage() throws {
    let error = try #require(manifestError("[base]\n"))
    #expect(error.description == ".devenv/devenv.toml:1:1: error: base: missing required key 'image' (or 'distro' or 'dockerfile')")
}

@Test func wrongTypes() throws {
    let cases: [(String, String)] = [
        ("base = \"debian\"", "1:8: error: base: expected a table, found a string"),
        ("[base]\nimage = [\"a\"]", "2:9: error: base.image: expected a string, found an array"),
        ("base = { image = \"d\" }\nstep = \"x\"", "2:8: error: step: expected an array of tables ([[step]]), found a string"),
        ("[base]\nimage = \"d\"\n[step]\nrun = \"x\"", "3:1: error: step: expected an array of tables ([[step]]), found a table"),
        ("base = { image = \"d\" }\nstep = [1]", "2:9: error: step[1]: expected a table, found an integer"),
        ("[base]\nimage = \"d\"\n[[step]]\nrun = 1", "4:7: error: step[1].run: expected a string or an array of strings, found an integer"),
        ("[base]\nimage = \"d\"\n[[step]]\nrun = [\"a\", 2]", "4:13: error: step[1].run[2]: expected a string, found an integer"),
        ("[base]\nimage = \"d\"\n[[step]]\nuser = 1000", "4:8: error: step[1].user: expected a string, found an integer"),
        ("[base]\nimage = \"d\"\n[[step]]\nenv = { PORT = 8000 }", "4:16: error: step[1].env.PORT: expected a string, found an integer"),
        ("[base]\nimage = \"d\"\n[shell]\nmounts = \"/a:/b\"", "4:10: error: shell.mounts: expected an array, found a string"),
        ("[base]\nimage = \"d\"\n[shell]\nmounts = [{ host = \"/a\", container = \"/b\", readonly = \"yes\" }]", "4:55: error: shell.mounts[1].readonly: expected a boolean, found a string"),
        ("base = { image = \"d\" }\ntasks = [\"x\"]", "2:9: error: tasks: expected a table, found an array"),
        ("[base]\nimage = \"d\"\n[tasks.t]\nworkdir = \"/x\"", "3:1: error: tasks.t: missing required key 'run'"),
        ("[base]\nimage = \"d\"\n[cache]\nregistry = 1", "4:12: error: cache.registry: expected a string, found an integer"),
        ("[base]\nimage = 1979-05-27", "2:9: error: base.image: expected a string, found a local date"),
    ]
    for (source, expected) in cases {
        let error = manifestError(source)
        #expect(error?.description == ".devenv/devenv.toml:" + expected, "\(source)")
    }
}

@Test func unknownKeysSuggestTheClosestKey() throws {
    let cases: [(String, String)] = [
        ("[base]\nimage = \"d\"\n[buidl]", "3:2: error: unknown key 'buidl'"),
        ("base = { image = \"d\" }\nsteps = []", "2:1: error: unknown key 'steps' (did you mean 'step'?)"),
        ("[base]\nimage = \"d\"\n[[step]]\nrun = \"x\"\nnetwrok = \"host\"", "5:1: error: unknown key 'netwrok' in [[step]] (did you mean 'network'?)"),
        ("[base]\nimage = \"d\"\n[[step]]\ncommand = \"x\"", "3:1: error: step[1]: a step needs one of 'run', 'copy', 'env', 'workdir', 'user' or 'packages'\n.devenv/devenv.toml:4:1: error: unknown key 'command' in [[step]] (did you mean 'run'?)"),
        ("base = { image = \"d\" }\nrun = \"x\"", "2:1: error: unknown key 'run' (did you mean to put it in [[step]]?)"),
        ("[base]\nimage = \"d\"\nrun = \"x\"", "3:1: error: unknown key 'run' in [base]"),
        ("[base]\nimage = \"d\"\n[shell]\nmounts = [{ hots = \"/a\", host = \"/a\", container = \"/b\" }]", "4:13: error: unknown key 'hots' in shell.mounts[1] (did you mean 'host'?)"),
        ("[base]\nimage = \"d\"\n[tasks.lint]\nrun = \"x\"\nenviroment = {}", "5:1: error: unknown key 'enviroment' in [tasks.lint] (did you mean 'env'?)"),
        ("[base]\nimage = \"d\"\n[cache]\nregistry = \"r\"\nregsitry = \"r\"", "5:1: error: unknown key 'regsitry' in [cache] (did you mean 'registry'?)"),
    ]
    for (source, expected) in cases {
        #expect(manifestError(source)?.description == ".devenv/devenv.toml:" + expected, "\(source)")
    }
}

/// `private` is the shell's network alone: a build step has no project network to join.
@Test func aPrivateNetworkIsTheShells() throws {
    let shell = try parse("[base]\nimage = \"d\"\n[shell]\nnetwork = \"private\"\n")
    #expect(shell.shell.network == .private)
    #expect(manifestError("[base]\nimage = \"d\"\n[[step]]\nrun = \"x\"\nnetwork = \"private\"")?.description
            == ".devenv/devenv.toml:5:11: error: step[1].network: expected 'host' or 'none', found 'private'")
    #expect(manifestError("[base]\nimage = \"d\"\n[shell]\nnetwork = \"pod\"")?.description
            == ".devenv/devenv.toml:4:11: error: shell.network: expected 'host', 'none' or 'private', found 'pod'")
}
