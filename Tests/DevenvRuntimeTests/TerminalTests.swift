@testable import DevenvRuntime
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `devenv run --tty` on a real terminal (a detached tmux session): window size at start and
/// after a resize, Ctrl-C reaching the container's foreground job, the exit status, and the
/// user's terminal settings restored afterwards.
@Suite(.enabled(if: Requirement.root(), "needs root and tmux (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct TerminalTests {
    final class Session {
        let socket = "devenv-test-\(UUID().uuidString.prefix(8))"
        let directory: String

        init() throws {
            try Fixture.requireRoot()
            guard access("/usr/bin/tmux", X_OK) == 0 else { throw FixtureError("tmux is not installed (apt-get install tmux)") }
            directory = try Fixture.temporaryDirectory()
        }

        /// Starts `script` in a 80x24 terminal; its own stdout is the terminal. The script is
        /// read by sh rather than executed: a concurrent fork elsewhere in the test process may
        /// still hold it open for writing (ETXTBSY).
        func start(_ script: String) throws {
            let path = directory + "/outer.sh"
            try Data(("cd '\(directory)'\n" + script).utf8).write(to: URL(fileURLWithPath: path))
            try tmux(["new-session", "-d", "-x", "80", "-y", "24", "/bin/sh " + path])
        }

        func tmux(_ arguments: [String]) throws {
            let result = try Command.run("/usr/bin/tmux", ["-L", socket, "-f", "/dev/null"] + arguments)
            guard result.status == 0 else { throw FixtureError("tmux \(arguments.joined(separator: " ")): \(result.stderr)") }
        }

        /// The file's text once it is complete (ends with a newline).
        func file(_ name: String, seconds: Double = 30) -> String? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8), text.utf8.last == UInt8(ascii: "\n") { return text }
                usleep(20_000)
            }
            return try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }

        deinit {
            _ = try? Command.run("/usr/bin/tmux", ["-L", socket, "kill-server"])
            Fixture.remove(directory)
        }
    }

    /// devenv's own messages go to `devenv.err` (the container's stderr stays on the terminal).
    func devenvRun(_ inner: String) throws -> String {
        "'\(try Fixture.devenvBinary())' run --rootfs '\(try Fixture.busyboxRootfs())' -- sh -c '\(inner)' 2>devenv.err"
    }

    @Test func resizeExitStatusAndRestoredTerminal() throws {
        let session = try Session()
        try session.start("""
            stty -g > before
            \(try devenvRun("tty > /workspace/tty; stty size > /workspace/size1; while [ ! -e /workspace/go ]; do sleep 0.05; done; stty size > /workspace/size2; exit 7"))
            echo $? > rc.tmp; stty -g > after; mv rc.tmp rc
            """)
        #expect(session.file("size1") == "24 80\n")
        #expect(session.file("tty")?.hasPrefix("/dev/pts/") == true)
        try session.tmux(["resize-window", "-x", "120", "-y", "40"])
        usleep(300_000)
        _ = FileManager.default.createFile(atPath: session.directory + "/go", contents: nil)
        #expect(session.file("size2") == "40 120\n")
        #expect(session.file("rc") == "7\n")
        #expect(session.file("before") == session.file("after"))
    }

    @Test func controlCReachesTheForegroundJob() throws {
        let session = try Session()
        try session.start("""
            \(try devenvRun("echo ready > /workspace/ready; sleep 100; echo not-interrupted > /workspace/wrong"))
            echo $? > rc.tmp; mv rc.tmp rc
            """)
        #expect(session.file("ready") != nil, "\(session.file("devenv.err") ?? "")")
        try session.tmux(["send-keys", "C-c"])
        #expect(session.file("rc") == "130\n")
        #expect(access(session.directory + "/wrong", F_OK) != 0)
    }

    @Test func inputReachesTheShellAndItExitsCleanly() throws {
        let session = try Session()
        try session.start("""
            '\(try Fixture.devenvBinary())' shell --rootfs '\(try Fixture.busyboxRootfs())' 2>devenv.err
            echo $? > rc.tmp; mv rc.tmp rc
            """)
        usleep(500_000)
        #expect(access(session.directory + "/rc", F_OK) != 0, "devenv ended early: \(session.file("rc") ?? "") \(session.file("devenv.err") ?? "")")
        try session.tmux(["send-keys", "echo $((6*7)) > /workspace/answer; exit 3", "Enter"])
        #expect(session.file("answer") == "42\n")
        #expect(session.file("rc") == "3\n")
    }

    @Test func aClosedOutputHangsUpTheTerminal() throws {
        let session = try Session()
        try session.start("""
            '\(try Fixture.devenvBinary())' run --tty --rootfs '\(try Fixture.busyboxRootfs())' -- yes 2>devenv.err | head -1 > head.out
            echo done > finished
            """)
        #expect(session.file("finished") == "done\n")
        #expect(session.file("head.out")?.hasPrefix("y") == true)
    }

    @Test func rootlessTerminalBelongsToTheUser() throws {
        let user = try TestUser.ensure()
        let session = try Session()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
        try session.start("""
            /usr/bin/setpriv --reuid=\(user.uid) --regid=\(user.gid) --init-groups /usr/bin/env -i HOME=\(user.home) PATH=/usr/bin:/bin TERM=xterm \\
              '\(try Fixture.devenvBinary())' run --mount-dir '\(workspace)' --rootfs '\(rootfs)' -- sh -c 'ls -ln $(tty) > /workspace/tty; stty size >> /workspace/tty; exit 4'
            echo $? > rc.tmp; mv rc.tmp rc
            """)
        #expect(session.file("rc") == "4\n")
        let lines = (try? String(contentsOfFile: workspace + "/tty", encoding: .utf8))?.split(separator: "\n") ?? []
        let fields = lines.first?.split(separator: " ") ?? []
        #expect(fields.first?.hasPrefix("crw--w----") == true, "\(lines)")
        #expect(fields.count > 3 && fields[2] == "\(user.uid)" && fields[3] == "\(MountPlan.ttyGID)", "\(lines)")
        #expect(lines.last == "24 80")
    }
}
