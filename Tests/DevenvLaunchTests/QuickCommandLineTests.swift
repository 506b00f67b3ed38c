import ArgumentParser
@testable import DevenvCLI
import DevenvLaunch
import DevenvRuntime
import DevenvSession
import Testing

/// The front end reads common run/shell lines without ArgumentParser; every line it accepts
/// must mean exactly what it means to the full CLI.
@Suite struct QuickCommandLineTests {
    static let runLines: [[String]] = [
        ["--image", "busybox", "--", "true"],
        ["--image=busybox", "--no-tty", "--", "sh", "-c", "exit 3"],
        ["--image", "busybox", "echo", "--not-an-option", "-e", "x"],
        ["-e", "A=1", "--env", "B", "--env=C=3=4", "--image", "x", "--", "env"],
        ["--rootfs", "/r", "--workdir", "/w", "--network", "none", "--mount-dir", "d", "--mount-target", "/m",
         "--hostname", "h", "--store", "/s", "--json", "--tty", "--", "a", "--", "b"],
        ["--network=host", "--image", "docker.io/library/busybox:1", "--", "x"],
        ["--image", "x", "--", "--leading-dash-command"],
        ["build", "--release"],
        ["--memory", "2g", "--pids=4096", "--cpus", "1.5", "--shm-size", "64MiB", "--image", "x", "--", "y"],
        ["--memory=max", "--pids", "unlimited", "--image", "x", "--", "y"],
        ["--no-ssh-agent", "--no-git-identity", "--image", "x", "--", "y"],
    ]

    static let shellLines: [[String]] = [
        ["--image", "x"],
        ["--no-tty", "--rootfs=/srv/root", "-e", "TERM=dumb"],
        ["--no-ssh-agent"],
        ["--no-dotfiles", "--no-git-identity"],
        [],
    ]

    @Test(arguments: runLines)
    func runLinesMeanTheSame(_ arguments: [String]) throws {
        let quick = try #require(QuickCommandLine.parse(verb: "run", arguments: arguments))
        let full = try RunArguments.parse(arguments)
        #expect(quick.options == full.options.values)
        #expect(quick.store == full.global.store)
        #expect(quick.command == full.command)
    }

    @Test(arguments: shellLines)
    func shellLinesMeanTheSame(_ arguments: [String]) throws {
        let quick = try #require(QuickCommandLine.parse(verb: "shell", arguments: arguments))
        let full = try ShellArguments.parse(arguments)
        #expect(quick.options == full.options.values)
        #expect(quick.store == full.global.store)
        #expect(quick.command == nil)
    }

    /// Lines the full CLI must handle: help, mistakes it explains, anything unusual.
    static let fullCLILines: [(String, [String])] = [
        ("run", ["--help"]), ("run", ["-h"]), ("shell", ["--help"]),
        ("run", ["--image", "busybox"]),
        ("run", ["--image", "a", "--image", "b", "--", "x"]),
        ("run", ["--image", "a", "--rootfs", "/r", "--", "x"]),
        ("run", ["--rootfs", "", "--", "x"]),
        ("run", ["--network", "bridge", "--image", "x", "--", "y"]),
        // A private network is a project's; the full CLI explains.
        ("run", ["--network", "private", "--image", "x", "--", "y"]),
        ("run", ["--image", "--", "x"]),
        ("run", ["--bogus", "--image", "x", "--", "y"]),
        ("run", ["-e", "=A", "--image", "x", "--", "y"]),
        ("run", ["-e", "", "--image", "x", "--", "y"]),
        ("run", ["--tty=yes", "--image", "x", "--", "y"]),
        ("run", ["--image", "x", "-it", "--", "y"]),
        ("run", ["--memory", "lots", "--image", "x", "--", "y"]),
        ("run", ["--cpus", "-1", "--image", "x", "--", "y"]),
        ("shell", ["--image", "x", "extra"]),
        ("shell", ["--", "x"]),
        ("build", ["--image", "x"]),
        ("image", ["ls"]),
    ]

    @Test func unusualLinesGoToTheFullCLI() {
        for (verb, arguments) in Self.fullCLILines {
            #expect(QuickCommandLine.parse(verb: verb, arguments: arguments) == nil, "\(verb) \(arguments)")
        }
    }

    /// The rejected mistakes are ones ArgumentParser rejects too (so the user sees its message).
    @Test func rejectedMistakesAreErrorsForTheFullCLI() {
        for arguments in [["--image", "busybox"], ["--image", "a", "--rootfs", "/r", "--", "x"], ["--network", "bridge", "--image", "x", "--", "y"],
                          ["-e", "=A", "--image", "x", "--", "y"], ["--rootfs", "", "--", "x"]] {
            #expect(throws: (any Error).self, "\(arguments)") { _ = try RunArguments.parse(arguments) }
        }
    }
}

@Suite struct RunHelpTests {
    /// `run` captures its command words verbatim; `devenv run --help` must still be help.
    @Test(arguments: [["run", "--help"], ["run", "-h"], ["run", "--image", "x", "--help"]])
    func helpIsNotATask(_ arguments: [String]) {
        do {
            _ = try Devenv.parseAsRoot(arguments)
            Issue.record("\(arguments) parsed as a command")
        } catch {
            #expect(Devenv.exitCode(for: error) == .success)
            #expect(Devenv.fullMessage(for: error).contains("--mount-dir"))
        }
    }

    @Test func aCommandNamedHelpStillRuns() throws {
        let parsed = try Devenv.parseAsRoot(["run", "--image", "x", "--", "--help"])
        #expect((parsed as? RunCommand)?.arguments.command == ["--help"])
    }
}
