@testable import DevenvTestSupport
import Foundation
import Testing

/// The command line never guesses: every usage error is exit 64 with the nearest name, and
/// comes before any store, registry or container work. The store given is an empty
/// directory that must stay empty, and the base image is not in it (building or pulling
/// would fail differently, or reach for the network). No privileges needed.
@Suite struct CommandLineTests {
    static let manifest = """
    [base]
    image = "registry.invalid/never/pulled:1"

    [tasks]
    test = "echo ran"
    lint = { run = ["true"], description = "Check the style" }
    """

    final class Setup {
        let scratch: Scratch
        let project: String
        let store: String

        init() throws {
            scratch = try Scratch("devenv-cli")
            project = scratch.file("project")
            store = scratch.file("store")
            try FileManager.default.createDirectory(atPath: "\(project)/.devenv", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            try CommandLineTests.manifest.write(toFile: "\(project)/.devenv/devenv.toml", atomically: false, encoding: .utf8)
        }

        func devenv(_ arguments: [String]) throws -> DevenvProcess.Result {
            try DevenvProcess.devenv(arguments, store: store, directory: project, timeout: 60)
        }

        var storeIsEmpty: Bool { ((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).isEmpty }
    }

    static let usageErrors: [(arguments: [String], message: String)] = [
        (["run", "--imgae", "x", "--", "true"], "Unknown option '--imgae'. Did you mean '--image'?"),
        (["run", "--netwrok=none", "--", "true"], "Unknown option '--netwrok'. Did you mean '--network'?"),
        (["run", "-it", "--", "sh"], "Unknown option '-it'. Did you mean '--tty'?"),
        (["run", "--bogus-option", "--", "true"], "Unknown option '--bogus-option'"),
        (["run", "--image", "busybox", "--bogus-option", "--", "true"], "Unknown option '--bogus-option'"),
        (["shell", "--imgae", "x"], "Unknown option '--imgae'. Did you mean '--image'?"),
        (["build", "--no-cahce"], "Unknown option '--no-cahce'. Did you mean '--no-cache'?"),
        (["run", "tset"], "no task 'tset' in .devenv/devenv.toml (did you mean 'test'?); tasks: test, lint"),
        (["run", "--store", "/elsewhere", "nosuchtask"], "no task 'nosuchtask'"),
        (["shel"], "Unknown subcommand 'shel'. Did you mean 'shell'?"),
        (["--json", "image", "lss"], "Unknown subcommand 'lss'. Did you mean 'ls'?"),
        (["run", "--mount-dir", "/tmp", "--", "true"], "--mount-dir does not apply in a project"),
        (["build", "--secret", "id=a,nope=1"], "--secret id=a,nope=1: expected"),
        (["build", "--ssh", "default"], "--ssh default: SSH_AUTH_SOCK is not set"),
    ]

    @Test(arguments: usageErrors)
    func usageErrorsComeBeforeAnyWork(_ arguments: [String], message: String) throws {
        let setup = try Setup()
        let result = try DevenvProcess.run(try DevenvProcess.binary, arguments, environment: ["DEVENV_HOME": setup.store, "SSH_AUTH_SOCK": ""],
                                           directory: setup.project, timeout: 60)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(setup.storeIsEmpty, "\(arguments) wrote to the store")
    }

    @Test func tasksAreListed() throws {
        let setup = try Setup()
        let plain = try setup.devenv(["tasks"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "test  echo ran\nlint  Check the style\n")
        // A global option before the subcommand, as after it.
        let json = try setup.devenv(["--json", "tasks"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: String]])
        #expect(rows == [["name": "test", "command": "echo ran"], ["name": "lint", "command": "'true'", "description": "Check the style"]])
        #expect(try setup.devenv(["tasks", "--json"]).stdout == json.stdout)
        #expect(setup.storeIsEmpty)
    }

    @Test func globalOptionsBeforeTheSubcommand() throws {
        let setup = try Setup()
        let other = setup.scratch.file("other-store")
        let listed = try DevenvProcess.run(try DevenvProcess.binary, ["--store", other, "--json", "image", "ls"],
                                           environment: ["DEVENV_HOME": setup.store], directory: setup.project, timeout: 60)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) is [Any], "\(listed.stdout)")
        #expect(setup.storeIsEmpty, "--store before the subcommand was not the store used")
    }
}
