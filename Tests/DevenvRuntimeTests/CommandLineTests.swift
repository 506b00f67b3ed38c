@testable import DevenvRuntime
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `devenv run` as a separate process: exit codes, messages, signals, and what happens to the
/// container when devenv itself dies.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct CommandLineTests {
    func devenv(_ command: [String], workspace: String, extra: [String] = []) throws -> Command.Running {
        try Fixture.requireRoot()
        return try Command.start(try Fixture.devenvBinary(),
                                 ["run", "--rootfs", try Fixture.busyboxRootfs(), "--no-tty"] + extra + ["--"] + command, directory: workspace)
    }

    @Test func exitCodesAndMessages() throws {
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        #expect(try devenv(["sh", "-c", "exit 42"], workspace: workspace).wait().status == 42)
        #expect(try devenv(["sh", "-c", "kill -9 $$"], workspace: workspace).wait().status == 137)
        let missing = try devenv(["no-such-command"], workspace: workspace).wait()
        #expect(missing.status == 127)
        #expect(missing.stderr == "devenv: error: exec \"no-such-command\": no such file or directory (ENOENT)\n")
        #expect(try devenv(["/etc/passwd"], workspace: workspace).wait().status == 126)
        let broken = try devenv(["true"], workspace: workspace, extra: ["--workdir", "/no/such"]).wait()
        #expect(broken.status == 125)
        #expect(broken.stderr.hasPrefix("devenv: error: chdir /no/such: no such file or directory (ENOENT)"))
        let output = try devenv(["sh", "-c", "pwd; echo $HOME $USER $X; hostname; cat /proc/1/comm"], workspace: workspace,
                                extra: ["-e", "X=1", "--hostname", "box"]).wait()
        // The single-threaded front end's clone is init itself: no devenv-init exec.
        #expect(output.stdout == "/workspace\n/root root 1\nbox\ndevenv\n")
    }

    @Test func signalsAreForwardedToTheCommand() throws {
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        let running = try devenv(["sh", "-c", "trap 'echo got TERM; exit 5' TERM; touch /workspace/ready; sleep 100 & wait"], workspace: workspace)
        #expect(waitForFile(workspace + "/ready"))
        kill(running.pid, SIGTERM)
        let result = running.wait()
        #expect(result.status == 5)
        #expect(result.stdout == "got TERM\n")
    }

    @Test func killingDevenvKillsTheContainer() throws {
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        let marker = String(100_000 + Int.random(in: 0..<800_000))
        let running = try devenv(["sh", "-c", "touch /workspace/ready; sleep \(marker)"], workspace: workspace)
        #expect(waitForFile(workspace + "/ready"))
        // The shell touches the file before it starts sleep: wait for sleep to exist.
        let started = Date().addingTimeInterval(10)
        while processes(containing: marker).isEmpty && Date() < started { usleep(20_000) }
        #expect(!processes(containing: marker).isEmpty)
        kill(running.pid, SIGKILL)
        _ = running.wait()
        let deadline = Date().addingTimeInterval(10)
        while !processes(containing: marker).isEmpty && Date() < deadline { usleep(20_000) }
        #expect(processes(containing: marker).isEmpty)
    }

    @Test func doctorReportsAHealthyHost() throws {
        try Fixture.requireRoot()
        let store = try Fixture.temporaryDirectory()
        defer { Fixture.remove(store) }
        let result = try Command.run(try Fixture.devenvBinary(), ["doctor", "--store", store, "--json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try JSONDecoder().decode(DoctorReport.self, from: Data(result.stdout.utf8))
        #expect(report.checks.first { $0.name == "overlayfs" }?.status == .ok)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/tmp").isEmpty)
    }

    /// Host pids whose command line contains `text`.
    func processes(containing text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first == "sleep" && arguments.contains(text) ? pid : nil
        }
    }
}
