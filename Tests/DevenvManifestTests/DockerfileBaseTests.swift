import Testing
@testable import DevenvManifest

/// `[base] dockerfile = "…"` with `context`, `target` and `args`.
@Test func dockerfileBaseParses() throws {
    let manifest = try parse("""
        [base]
        dockerfile = "docker/dev.Dockerfile"
        context = "."
        target = "dev"
        args = { VERSION = "1.2", BASE = "debian:bookworm" }

        [[step]]
        run = "make"
        """)
    #expect(manifest.base.image == nil)
    let dockerfile = try #require(manifest.base.dockerfile)
    #expect(dockerfile.path.value == "docker/dev.Dockerfile")
    #expect(dockerfile.path.location == SourceLocation(line: 2, column: 14, offset: 20))
    #expect(dockerfile.context?.value == ".")
    #expect(dockerfile.target?.value == "dev")
    #expect(dockerfile.args.map { "\($0.name)=\($0.value)" } == ["VERSION=1.2", "BASE=debian:bookworm"])
    #expect(manifest.steps.count == 1)
    let minimal = try parse("[base]\ndockerfile = \"Dockerfile\"\n")
    #expect(minimal.base.dockerfile?.context == nil && minimal.base.dockerfile?.target == nil && minimal.base.dockerfile?.args == [])
}

@Test func dockerfileBaseErrors() throws {
    let cases: [(String, String)] = [
        ("[base]\nimage = \"debian\"\ndockerfile = \"Dockerfile\"", "2:1: error: base: give either 'image' or 'dockerfile', not both"),
        ("[base]\nimage = \"debian\"\ntarget = \"dev\"", "3:1: error: base: 'target' needs 'dockerfile' (or use 'image')"),
        ("[base]\ndockerfile = \"../Dockerfile\"", "2:14: error: base.dockerfile: must not leave the project directory, found '../Dockerfile'"),
        ("[base]\ndockerfile = \"/abs/Dockerfile\"", "2:14: error: base.dockerfile: must be relative to the project directory, found '/abs/Dockerfile'"),
        ("[base]\ndockerfile = 5", "2:14: error: base.dockerfile: expected a string, found an integer"),
        ("[base]\ndockerfile = \"D\"\ntarget = \"\"", "3:10: error: base.target: must not be empty"),
        ("[base]\ndockerfile = \"D\"\nargs = { \"A=B\" = \"x\" }", "3:10: error: base.args: variable name 'A=B' must not contain '='"),
        ("[base]\ndockerfile = \"D\"\nargs = { A = 1 }", "3:14: error: base.args.A: expected a string, found an integer"),
        ("[base]\ndockerfile = \"D\"\ncontext = \"../..\"", "3:11: error: base.context: must not leave the project directory, found '../..'"),
        ("[base]\ndockerfile = \"D\"\ntargte = \"x\"", "3:1: error: unknown key 'targte' in [base] (did you mean 'target'?)"),
    ]
    for (source, expected) in cases {
        #expect(manifestError(source)?.description == ".devenv/devenv.toml:\(expected)", "\(source)")
    }
    // The image-only message is unchanged.
    #expect(manifestError("[base]\n")?.description == ".devenv/devenv.toml:1:1: error: base: missing required key 'image' (or 'distro' or 'dockerfile')")
}
