import ArgumentParser
@testable import DevenvCLI
import Testing

/// `--name`, `--detach`, `exec` and `stop` read their command lines strictly, before anything starts.
@Suite struct EnvironmentOptionsTests {
    @Test func namesAndDetachParseInAProject() throws {
        let shell = try ShellArguments.parse(["--name", "db", "--detach"])
        #expect(shell.environment.name == "db" && shell.detach)
        let run = try RunArguments.parse(["--name", "web-2", "--", "true"])
        #expect(run.environment.name == "web-2" && run.command == ["true"])
        let exec = try ExecCommand.parse(["--name", "db", "--", "ps", "-ef"])
        #expect(exec.environment.name == "db" && exec.command == ["ps", "-ef"])
        let stop = try StopCommand.parse(["db", "--time", "0"])
        #expect(stop.name == "db" && stop.time == 0)
        #expect(try StopCommand.parse([]).name == "default")
    }

    @Test func mistakesAreUsageErrors() {
        for line in [["--name", "../x"], ["--name", ""], ["--image", "busybox", "--detach"], ["--rootfs", "/r", "--name", "a"]] {
            #expect(throws: (any Error).self, "\(line)") { _ = try ShellArguments.parse(line) }
        }
        #expect(throws: (any Error).self) { _ = try RunArguments.parse(["--image", "busybox", "--name", "a", "--", "true"]) }
        #expect(throws: (any Error).self) { _ = try ExecCommand.parse([]) }
        #expect(throws: (any Error).self) { _ = try ExecCommand.parse(["--image", "busybox", "--", "true"]) }
        #expect(throws: (any Error).self) { _ = try StopCommand.parse(["a/b"]) }
        #expect(throws: (any Error).self) { _ = try StopCommand.parse(["--time", "-1"]) }
    }
}
