import Testing
@testable import DevenvManifest

/// Invalid TOML, unknown keys, wrong types and hostile values: each
/// input gives one exact message with file, line:column and key path.
struct RejectedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let source: String
    let expected: String
    var testDescription: String { name }

    init(_ name: String, _ source: String, _ expected: String) {
        self.name = name
        self.source = source
        self.expected = expected
    }
}

private let base = "base = { image = \"debian\" }\n"

let rejectedCases: [RejectedCase] = [
    // I1
    RejectedCase("I1a unterminated string", "[base]\nimage = \"ubuntu", "2:9: error: unterminated string: a single-line string must end on the line where it starts"),
    RejectedCase("I1b duplicate key", "[base]\nimage = \"a\"\nimage = \"b\"", "3:1: error: duplicate key 'base.image' (first defined at 2:1)"),
    RejectedCase("I1c redefined table", "[base]\nimage = \"a\"\n[base]", "3:2: error: table [base] is defined twice (first at 1:1)"),
    RejectedCase("I1d misspelt key", "[base]\nimagee = \"x\"", "1:1: error: base: missing required key 'image' (or 'distro' or 'dockerfile')\n.devenv/devenv.toml:2:1: error: unknown key 'imagee' in [base] (did you mean 'image'?)"),
    RejectedCase("I1d unknown table", base + "[buidl]", "2:2: error: unknown key 'buidl'"),
    RejectedCase("I1e integer image", "[base]\nimage = 5", "2:9: error: base.image: expected a string, found an integer"),
    RejectedCase("I1e steps string", base + "steps = \"x\"", "2:1: error: unknown key 'steps' (did you mean 'step'?)"),
    RejectedCase("I1e env array", base + "[[step]]\nenv = [\"A=B\"]", "3:7: error: step[1].env: expected a table, found an array"),
    RejectedCase("I1f invalid UTF-8", "[base]\nimage = \"deb\u{FFFD}ian\"", "2:13: error: invalid UTF-8 (byte 0xff)"),
    RejectedCase("I1g empty file", "", "1:1: error: missing required table [base] (with image = \"NAME[:TAG]\" or distro = \"debian:bookworm\")"),
    RejectedCase("I1h TOML 1.1 escape", "[base]\nimage = \"\\e[31m\"", "2:10: error: escape sequence '\\e' is TOML 1.1; this file must be TOML 1.0"),
    RejectedCase("I1h TOML 1.1 multi-line inline table", "base = {\n  image = \"d\"\n}", "1:9: error: an inline table must be on a single line (TOML 1.0), found a newline"),
    RejectedCase("I1h TOML 1.1 trailing comma", "base = { image = \"d\", }", "1:23: error: a trailing comma is not allowed in an inline table (TOML 1.0)"),
    // I2
    RejectedCase("I2 env name with =", base + "[[step]]\nenv.\"A=B\" = \"x\"", "3:5: error: step[1].env: variable name 'A=B' must not contain '='"),
    RejectedCase("I2 env value with NUL", base + "[[step]]\nenv.X = \"\\u0000\"", "3:9: error: step[1].env.X: must not contain NUL characters"),
    RejectedCase("I2 env name with NUL", base + "[[step]]\nenv = { \"A\\u0000\" = \"x\" }", "3:9: error: step[1].env: variable name 'A\\x00' must not contain NUL characters"),
    RejectedCase("I2 empty env name", base + "[shell]\nenv = { \"\" = \"x\" }", "3:9: error: shell.env: variable name must not be empty"),
    RejectedCase("I2 env name with space", base + "[tasks.t]\nrun = \"x\"\nenv = { \"A B\" = \"x\" }", "4:9: error: tasks.t.env: variable name 'A B' must not contain whitespace or control characters"),
    RejectedCase("I2 empty env step", base + "[[step]]\nenv = {}", "3:7: error: step[1].env: must set at least one variable"),
    RejectedCase("I2 NUL in run script", base + "[[step]]\nrun = \"a\\u0000b\"", "3:7: error: step[1].run: must not contain NUL characters"),
    RejectedCase("I2 NUL in argv", base + "[[step]]\nrun = [\"a\", \"b\\u0000\"]", "3:13: error: step[1].run[2]: must not contain NUL characters"),
    RejectedCase("I2 empty program name", base + "[[step]]\nrun = [\"\", \"x\"]", "3:8: error: step[1].run[1]: the program name must not be empty"),
    RejectedCase("I2 empty argv", base + "[[step]]\nrun = []", "3:7: error: step[1].run: must not be empty"),
    RejectedCase("I2 blank script", base + "[[step]]\nrun = \"  \"", "3:7: error: step[1].run: must not be empty"),
    RejectedCase("I2 relative workdir", base + "[[step]]\nworkdir = \"relative\"", "3:11: error: step[1].workdir: must be an absolute path, found 'relative'"),
    RejectedCase("I2 climbing workdir", base + "[[step]]\nworkdir = \"../../\"", "3:11: error: step[1].workdir: must be an absolute path, found '../../'"),
    RejectedCase("I2 dot-dot in absolute workdir", base + "[[step]]\nworkdir = \"/app/../../etc\"", "3:11: error: step[1].workdir: must not contain '..', found '/app/../../etc'"),
    RejectedCase("I2 escaping copy source", base + "[[step]]\ncopy = [\"../../etc\"]", "3:9: error: step[1].copy[1]: must not leave the project directory, found '../../etc'"),
    RejectedCase("I2 dot-dot inside copy source", base + "[[step]]\ncopy = \"src/../../x\"", "3:8: error: step[1].copy: must not leave the project directory, found 'src/../../x'"),
    RejectedCase("I2 absolute copy source", base + "[[step]]\ncopy = \"/etc/passwd\"", "3:8: error: step[1].copy: must be relative to the project directory, found '/etc/passwd'"),
    RejectedCase("I2 empty copy source", base + "[[step]]\ncopy = \"\"", "3:8: error: step[1].copy: must not be empty"),
    RejectedCase("I2 relative copy destination", base + "[[step]]\ncopy = \"a\"\nto = \"app\"", "4:6: error: step[1].to: must be an absolute path, found 'app'"),
    RejectedCase("I2 digest path traversal", "[base]\nimage = \"ubuntu@sha256:../../x\"", "2:9: error: base.image: invalid image reference 'ubuntu@sha256:../../x': the digest must look like 'sha256:' followed by hexadecimal digits"),
    RejectedCase("I2 image with space", "[base]\nimage = \"debian bookworm\"", "2:9: error: base.image: invalid image reference 'debian bookworm': expected NAME[:TAG][@DIGEST] with letters, digits and '._-/:@'"),
    RejectedCase("I2 image looking like an option", "[base]\nimage = \"--privileged\"", "2:9: error: base.image: invalid image reference '--privileged': expected NAME[:TAG][@DIGEST] with letters, digits and '._-/:@'"),
    RejectedCase("I2 shell injection in user", base + "[[step]]\nuser = \"nobody; id\"", "3:8: error: step[1].user: invalid user 'nobody; id': expected NAME, UID, UID:GID or NAME:GROUP, where names use letters, digits, '_', '.' and '-' and do not start with '-'"),
    RejectedCase("I2 user with three parts", base + "[[step]]\nuser = \"1:2:3\"", "3:8: error: step[1].user: invalid user '1:2:3': expected NAME, UID, UID:GID or NAME:GROUP, where names use letters, digits, '_', '.' and '-' and do not start with '-'"),
    RejectedCase("I2 uid -1", base + "[[step]]\nuser = \"4294967295\"", "3:8: error: step[1].user: invalid user '4294967295': expected NAME, UID, UID:GID or NAME:GROUP, where names use letters, digits, '_', '.' and '-' and do not start with '-'"),
    RejectedCase("I2 option-like package", base + "[[step]]\npackages = [\"-oDebug::pkgProblemResolver=1\"]", "3:13: error: step[1].packages[1]: invalid package name '-oDebug::pkgProblemResolver=1': use letters, digits and '+._:=~-', starting with a letter or digit"),
    RejectedCase("I2 empty package list", base + "[[step]]\npackages = []", "3:12: error: step[1].packages: must not be empty"),
    RejectedCase("I2 long run script", base + "[[step]]\nrun = \"" + String(repeating: "x", count: 200_000) + "\"", "3:7: error: step[1].run: is 200000 bytes long, over the limit of 131071 bytes"),
    RejectedCase("I2 1 MiB string", base + "[[step]]\nrun = \"" + String(repeating: "x", count: 1 << 20) + "\"", "1:1: error: file is 1048621 bytes, over the limit of 1048576 bytes"),
    RejectedCase("I2 root cache mount", base + "[[step]]\nrun = \"x\"\ncache = \"/\"", "4:9: error: step[1].cache: cannot be the container's root directory"),
    RejectedCase("I2 mount over the working tree", base + "[shell]\nmounts = [\"/tmp:/workspace/\"]", "3:11: error: shell.mounts[1]: '/workspace/' is already mounted by shell.mount"),
    RejectedCase("I2 climbing host mount", base + "[shell]\nmounts = [\"~/../../etc:/etc2\"]", "3:11: error: shell.mounts[1]: host path must not contain '..', found '~/../../etc'"),
    RejectedCase("I2 other user's home", base + "[shell]\nmounts = [\"~root/.ssh:/ssh\"]", "3:11: error: shell.mounts[1]: host path must be an absolute path or start with '~/', found '~root/.ssh'"),
    RejectedCase("I2 bad mount option", base + "[shell]\nmounts = [\"/a:/b:rx\"]", "3:11: error: shell.mounts[1]: expected 'HOST:CONTAINER' or 'HOST:CONTAINER:ro', found '/a:/b:rx' (for paths containing ':' write { host = \"...\", container = \"...\" })"),
    RejectedCase("I2 relative shell", base + "[shell]\nshell = \"bash\"", "3:9: error: shell.shell: must be an absolute path, found 'bash'"),
    RejectedCase("I2 task name", base + "[tasks]\n\"../x\" = \"y\"", "3:1: error: tasks: invalid task name '../x': use letters, digits and '_-.:', starting with a letter, digit or '_'"),
    RejectedCase("I2 escape sequence in key is escaped", base + "\"\\u001b[2J\" = 1", "2:1: error: unknown key '\\x1b[2J'"),
    RejectedCase("I2 bidi override in value is escaped", base + "[[step]]\nworkdir = \"a\\u202Eb\"", "3:11: error: step[1].workdir: must be an absolute path, found 'a\\u{202e}b'"),
]

@Test("hostile or invalid manifests are rejected with an exact message", arguments: rejectedCases)
func rejected(_ testCase: RejectedCase) throws {
    let bytes = testCase.source.hasInvalidUTF8Marker ? testCase.source.bytesWithInvalidUTF8 : Array(testCase.source.utf8)
    do {
        _ = try Manifest.parse(bytes, path: ".devenv/devenv.toml")
        Issue.record("accepted")
    } catch let error as ManifestError {
        #expect(error.description == ".devenv/devenv.toml:" + testCase.expected)
    }
}

@Test func hostileButLegalValuesPassVerbatim() throws {
    let manifest = try parse(base + """
        [[step]]
        env.FOO = "a\\nb"
        [[step]]
        run = ["$(touch /tmp/pwn)", "; rm -rf ~"]
        [[step]]
        user = "0:0"
        """)
    guard case let .env(variables) = manifest.steps[0].action,
          case let .run(run) = manifest.steps[1].action,
          case let .user(user) = manifest.steps[2].action else {
        Issue.record("unexpected steps \(manifest.steps)")
        return
    }
    #expect(variables == [Manifest.EnvironmentVariable(name: "FOO", value: "a\nb", location: variables[0].location)])
    // argv goes to execve as written: no shell unless the manifest asks for one.
    #expect(run.command.value.arguments == ["$(touch /tmp/pwn)", "; rm -rf ~"])
    #expect(user.value == Manifest.User(user: .id(0), group: .id(0)))
}

@Test func oddWorkingTreeLikePathsAreFineInMounts() throws {
    let manifest = try parse(base + """
        [shell]
        mounts = [{ host = "/tmp/a,b:c", container = "/src" }, "/tmp/my project:/my project", "/tmp/ünïcødé/日本:/u"]
        """)
    #expect(manifest.shell.mounts.map(\.source) == [.absolute("/tmp/a,b:c"), .absolute("/tmp/my project"), .absolute("/tmp/ünïcødé/日本")])
    #expect(manifest.shell.mounts.map(\.target) == ["/src", "/my project", "/u"])
}

@Test func controlCharactersInThePathAreEscaped() throws {
    let error = try capture(ManifestError.self) {
        try Manifest.parse([], path: "/tmp/new\nline/.devenv/devenv.toml")
    }
    #expect(error.description.hasPrefix("/tmp/new\\nline/.devenv/devenv.toml:1:1: error: "))
}

extension String {
    /// Test sources cannot hold invalid UTF-8; U+FFFD marks where a 0xFF byte goes.
    var hasInvalidUTF8Marker: Bool { unicodeScalars.contains("\u{FFFD}") }
    var bytesWithInvalidUTF8: [UInt8] {
        var bytes: [UInt8] = []
        for scalar in unicodeScalars {
            if scalar == "\u{FFFD}" { bytes.append(0xFF) } else { bytes.append(contentsOf: String(scalar).utf8) }
        }
        return bytes
    }
}
