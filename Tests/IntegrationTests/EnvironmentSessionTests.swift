@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The project's running environment end to end, as root and as the unprivileged test user:
/// a second session joins the first (`devenv exec`), exit statuses and signals come through,
/// `stop` ends everything within its timeout, and a SIGKILLed session's environment is
/// cleaned and never joined.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, and to act as the test user)"),
       .timeLimit(.minutes(20)))
struct EnvironmentSessionTests {
    static let manifest = "[base]\nimage = \"busybox:it\"\n"

    /// `devenv run` holding the environment with a marker process and a file in /tmp;
    /// returns once another session sees the file.
    private func startHolder(_ project: ProjectFixture, script: String = "echo up > /tmp/marker; exec sleep 300") throws -> Process {
        let holder = try project.runner.start(["run", "--", "sh", "-c", script],
                                              directory: project.root, output: project.scratch.file("holder.log"))
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if try project.devenv(["exec", "--", "cat", "/tmp/marker"]).stdout == "up\n" { return holder }
            guard holder.isRunning else { break }
            usleep(100_000)
        }
        let log = (try? String(contentsOfFile: project.scratch.file("holder.log.err"), encoding: .utf8)) ?? ""
        throw TestFailure("the holder's environment never came up: \(log)")
    }

    /// Ends the holder and waits for it, so its session ends the environment before the
    /// fixture removes the store (once the records are gone nothing can end it any more).
    private func stop(_ holder: Process) {
        if holder.isRunning { holder.terminate() }
        holder.waitUntilExit()
    }

    private func running(_ project: ProjectFixture) throws -> [[String: Any]] {
        let listed = try project.devenv(["ps", "--json"])
        #expect(listed.succeeded, "\(listed.stderr)")
        return (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    @Test(arguments: DevenvUser.allCases)
    func secondSessionJoinsTheFirst(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let holder = try startHolder(project)
        defer { stop(holder) }
        let seen = try project.devenv(["exec", "--", "sh", "-c", "ps -o pid,args; cat /tmp/marker"])
        #expect(seen.succeeded, "\(seen.stderr)")
        #expect(seen.stdout.contains("sleep 300") && seen.stdout.hasSuffix("up\n"), "the first session's process and file: \(seen.stdout)")

        let entries = try running(project)
        #expect(entries.count == 1, "\(entries)")
        #expect(entries.first?["project"] as? String == project.root)
        #expect(entries.first?["name"] as? String == "default")
        #expect((entries.first?["imageDigest"] as? String)?.hasPrefix("sha256:") == true)
        #expect((entries.first?["processes"] as? Int ?? 0) >= 1, "the marker process: \(entries)")
        #expect(entries.first?["detached"] as? Bool == false)

        // The last session out ends the environment.
        holder.terminate()
        holder.waitUntilExit()
        #expect(try running(project).isEmpty)
        let fresh = try project.devenv(["run", "--", "sh", "-c", "test ! -e /tmp/marker"])
        #expect(fresh.status == 0, "a new environment, not the old one: \(fresh.stderr)")
    }

    /// A warm start (the single-threaded front end answering from its record) sets the
    /// environment up in its own clone. Rootless, that clone then execs a static devenv-init as
    /// the keeper, from inside the container: only such an image is one the user may join.
    @Test(arguments: DevenvUser.allCases)
    func aWarmStartedEnvironmentIsJoined(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        // The record is of this very command line; it holds the environment once asked to.
        let script = "test -e /workspace/hold || exit 0; echo up > /tmp/marker; exec sleep 300"
        _ = try project.devenv(["run", "--", "sh", "-c", script])
        // Inputs younger than a second are not trusted for a warm record (WarmStartTests).
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try project.devenv(["run", "--", "sh", "-c", script]).succeeded)
        let records = (try? FileManager.default.contentsOfDirectory(atPath: project.store + "/warm")) ?? []
        #expect(records.contains { $0.hasSuffix(".json") }, "a warm record: \(records)")

        try project.write("hold", "")
        let holder = try startHolder(project, script: script)
        defer { stop(holder) }
        let seen = try project.devenv(["exec", "--", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; ps -o args"])
        #expect(seen.succeeded, "\(seen.stderr)")
        #expect(seen.stdout.contains("sleep 300"), "the first session's process: \(seen.stdout)")
        let keeper = seen.stdout.split(separator: "\n").first.map(String.init) ?? ""
        switch user {
        case .rootless: #expect(keeper.hasPrefix("devenv __keeper"), "the exec'd keeper: \(keeper)")
        case .root: #expect(keeper.contains(" run "), "root's keeper is the front end's clone: \(keeper)")
        }
    }

    /// The project's environment records directories' files (`projects/*/environments/*`), by path.
    private func environmentFiles(_ project: ProjectFixture) -> [String] {
        let projects = (try? FileManager.default.contentsOfDirectory(atPath: project.store + "/projects")) ?? []
        return projects.flatMap { id in
            let directory = "\(project.store)/projects/\(id)/environments"
            return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).map { "\(directory)/\($0)" }
        }
    }

    /// The last session out does not wait for its environment to go, yet a run right after
    /// never joins it (nor sees what it left running), and once `ps` has looked nothing of it
    /// is left: no record, no cgroup, no store lease of its init. A joined session starts
    /// inside the environment's cgroup.
    @Test(arguments: DevenvUser.allCases)
    func endedEnvironmentIsNeverJoinedAndLeavesNothing(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let script = "! ps -o args | grep -q '^sleep 300' && test ! -e /tmp/seen && touch /tmp/seen && (sleep 300 </dev/null >/dev/null 2>&1 &)"
        for round in 1...4 {
            let run = try project.devenv(["run", "--", "sh", "-c", script])
            #expect(run.status == 0, "round \(round): a fresh environment every time: \(run.stdout)\(run.stderr)")
        }

        let holder = try startHolder(project)
        defer { stop(holder) }
        let recordPath = try #require(environmentFiles(project).first { $0.hasSuffix("/default.json") })
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recordPath))) as? [String: Any])
        let cgroups = record["cgroups"] as? [String] ?? []
        if !cgroups.isEmpty {
            let view = try project.devenv(["exec", "--", "cat", "/proc/self/cgroup"])
            let lines = view.stdout.split(separator: "\n")
            #expect(lines.contains { $0 == "0::/" || ($0.contains(":pids:") && $0.hasSuffix(":/")) }, "inside the environment's cgroup: \(view.stdout)\(view.stderr)")
        }
        holder.terminate()
        holder.waitUntilExit()
        #expect(try running(project).isEmpty)
        let left = environmentFiles(project).filter { $0.hasSuffix(".json") || $0.hasSuffix(".ended") }
        #expect(left.isEmpty, "no record is left: \(left)")
        for cgroup in cgroups { #expect(!FileManager.default.fileExists(atPath: cgroup), "cgroup \(cgroup) is removed") }
        // Each start used to leave its init's lease behind until a gc: thousands of files a year.
        let leases = ((try? FileManager.default.contentsOfDirectory(atPath: "\(project.store)/leases")) ?? []).filter { !$0.hasPrefix(".") }
        #expect(leases.isEmpty, "leases are left: \(leases)")
    }

    /// A second `devenv shell` on a real terminal (util-linux's `script`) joins with a pty of
    /// the environment's own.
    @Test(arguments: DevenvUser.allCases)
    func secondShellOnATerminalJoins(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["script"])
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let holder = try startHolder(project)
        defer { stop(holder) }
        let (program, arguments) = try project.runner.command(["shell"])
        let line = ([program] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let typed = "test -t 0 && cat /tmp/marker > /workspace/answer; ps -o args | grep -q '^sleep 300' && echo seen >> /workspace/answer; exit 3\n"
        let result = try DevenvProcess.run("script", ["-q", "-e", "-c", line, "/dev/null"], stdin: Data(typed.utf8), directory: project.root, timeout: 60)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect((try? String(contentsOfFile: project.scratch.file("project/answer"), encoding: .utf8)) == "up\nseen\n", "\(result.stdout)")
    }

    @Test(arguments: DevenvUser.allCases)
    func execExitStatusesAndSignals(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let nothing = try project.devenv(["exec", "--", "true"])
        #expect(nothing.status == 1 && nothing.stderr.contains("no environment 'default' is running"), "\(nothing.stderr)")

        let holder = try startHolder(project)
        defer { stop(holder) }
        #expect(try project.devenv(["exec", "--", "sh", "-c", "exit 7"]).status == 7)
        #expect(try project.devenv(["exec", "--", "sh", "-c", "kill -KILL $$"]).status == 128 + SIGKILL)
        #expect(try project.devenv(["exec", "--", "sh", "-c", "kill -TERM $$"]).status == 128 + SIGTERM)
        let missing = try project.devenv(["exec", "--", "no-such-command"])
        #expect(missing.status == 127, "\(missing.stderr)")
        let directory = try project.devenv(["exec", "--", "pwd"])
        #expect(directory.stdout == "/workspace\n", "the planner's working directory: \(directory.stdout)\(directory.stderr)")
        #expect(try project.devenv(["exec", "--name", "other", "--", "true"]).status == 1, "another name is another environment")
    }

    @Test(arguments: DevenvUser.allCases)
    func stopEndsEverythingWithinTheTimeout(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let started = try project.devenv(["shell", "--detach"])
        #expect(started.succeeded, "\(started.stderr)")
        // A process that ignores SIGTERM, left behind by a session that has ended.
        let left = try project.devenv(["exec", "--", "sh", "-c", "trap '' TERM; sleep 300 </dev/null >/dev/null 2>&1 &"])
        #expect(left.succeeded, "\(left.stderr)")
        let entries = try running(project)
        #expect(entries.first?["detached"] as? Bool == true && (entries.first?["processes"] as? Int ?? 0) >= 1, "\(entries)")
        let pid = pid_t(entries.first?["pid"] as? Int ?? 0)
        // No session holds a lease now: the environment's init holds its own.
        let collected = try project.devenv(["gc"])
        #expect(collected.stdout.contains("used by 1 running environment"), "\(collected.stdout)\(collected.stderr)")

        let begin = Date()
        let stopped = try project.devenv(["stop", "--time", "1"])
        let elapsed = Date().timeIntervalSince(begin)
        #expect(stopped.status == 0 && stopped.stderr.contains("killed"), "\(stopped.stderr)")
        #expect(elapsed >= 1 && elapsed < 15, "SIGKILL after the timeout: \(elapsed) s")
        #expect(try running(project).isEmpty)
        #expect(ProcessStampProbe.isRunning(pid) == false, "init \(pid) is gone")
        #expect(try project.devenv(["stop"]).status == 1, "nothing left to stop")
    }

    @Test(arguments: DevenvUser.allCases)
    func killedSessionLeavesNothingToJoin(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let holder = try startHolder(project)
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let joined = try project.devenv(["exec", "--", "cat", "/tmp/marker"])
        #expect(joined.status == 1 && joined.stderr.contains("no environment"), "the abandoned environment is not joined: \(joined.stdout)\(joined.stderr)")
        #expect(try running(project).isEmpty)
        let records = (try? FileManager.default.contentsOfDirectory(atPath: project.store + "/projects")) ?? []
        let left = records.flatMap { (try? FileManager.default.contentsOfDirectory(atPath: "\(project.store)/projects/\($0)/environments")) ?? [] }
        #expect(!left.contains { $0.hasSuffix(".json") || $0.hasSuffix(".ended") }, "the record is removed: \(left)")
        let fresh = try project.devenv(["run", "--", "sh", "-c", "! ps -o args | grep -q '^sleep 300'; test ! -e /tmp/marker"])
        #expect(fresh.status == 0, "a new environment: \(fresh.stdout)\(fresh.stderr)")
    }

    @Test(arguments: [DevenvUser.root])
    func rebuiltImageIsNamedWhenJoining(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let holder = try startHolder(project)
        defer { stop(holder) }
        try project.write(".devenv/devenv.toml", Self.manifest + "\n[[step]]\nrun = \"touch /rebuilt\"\n")
        let joined = try project.devenv(["exec", "--", "sh", "-c", "test ! -e /rebuilt && cat /tmp/marker"])
        #expect(joined.stdout == "up\n", "it joins the running environment: \(joined.stderr)")
        #expect(joined.stderr.contains("runs the image it started with") && joined.stderr.contains("devenv stop"), "\(joined.stderr)")
    }
}

/// Whether a pid names a live (not zombie) process.
enum ProcessStampProbe {
    static func isRunning(_ pid: pid_t) -> Bool {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}
