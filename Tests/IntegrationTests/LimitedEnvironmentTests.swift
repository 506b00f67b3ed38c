@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A project environment with `[limits]`, joined by a second session, as root and as the
/// unprivileged test user: the joined session runs inside the environment's cgroup, under its
/// limits. Rootless that needs cgroups delegated to the user (systemd's `Delegate=yes`); the
/// test delegates v1 hierarchies the way such a manager does (directories owned by the user,
/// the session started inside them), since this host's systemd-less cgroup v1 delegates none.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, cgroups, and to act as the test user)"),
       .timeLimit(.minutes(20)))
struct LimitedEnvironmentTests {
    static let manifest = "[base]\nimage = \"busybox:it\"\n\n[limits]\nmemory = \"256m\"\npids = 512\n"
    static let memory = 256 << 20

    /// cgroups of the v1 `controllers` handed to `owner`, each a fresh directory below the
    /// hierarchy's root; commands started through `wrap` begin inside them.
    struct Delegation {
        let directories: [String]

        /// Throws, saying exactly what is missing, where the host has no v1 hierarchy to delegate.
        init(_ controllers: [String], to owner: TestUser) throws {
            let name = "devenv-test-delegated-\(UUID().uuidString.prefix(8))"
            var made: [String] = []
            for controller in controllers {
                let hierarchy = "/sys/fs/cgroup/\(controller)"
                guard FileManager.default.fileExists(atPath: "\(hierarchy)/cgroup.procs"), !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") else {
                    throw TestFailure("no cgroup v1 \(controller) hierarchy at \(hierarchy) to delegate to \(owner.name) (on cgroup v2 delegation comes from a systemd user session, which this test does not emulate)")
                }
                let directory = "\(hierarchy)/\(name)"
                guard mkdir(directory, 0o755) == 0 else { throw TestFailure("mkdir \(directory): errno \(errno)") }
                made.append(directory)
                // What systemd hands over with Delegate=yes: the directory and its process lists.
                for path in [directory, "\(directory)/cgroup.procs", "\(directory)/tasks"] where chown(path, owner.uid, owner.gid) != 0 {
                    throw TestFailure("chown \(path): errno \(errno)")
                }
            }
            directories = made
        }

        /// `program line` started inside the delegated cgroups.
        func wrap(_ program: String, _ line: [String]) -> (String, [String]) {
            let enter = directories.map { "echo $$ > \($0)/cgroup.procs" }.joined(separator: " && ")
            return ("/bin/sh", ["-c", "\(enter) && exec \"$0\" \"$@\"", program] + line)
        }

        func remove() {
            for directory in directories { rmdir(directory) }
        }
    }

    func devenv(_ project: ProjectFixture, _ delegation: Delegation?, _ arguments: [String]) throws -> DevenvProcess.Result {
        let (program, line) = try project.runner.command(arguments)
        let (wrapped, words) = delegation?.wrap(program, line) ?? (program, line)
        return try DevenvProcess.run(wrapped, words, directory: project.root, timeout: 120)
    }

    func record(_ project: ProjectFixture) throws -> [String: Any] {
        let projects = "\(project.store)/projects"
        for id in try FileManager.default.contentsOfDirectory(atPath: projects) {
            let path = "\(projects)/\(id)/environments/default.json"
            if let data = FileManager.default.contents(atPath: path), let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] { return object }
        }
        throw TestFailure("no environment record in \(projects)")
    }

    @Test(arguments: DevenvUser.allCases)
    func aJoinedSessionRunsInsideTheEnvironmentsCgroup(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let delegation = try project.runner.account.map { try Delegation(["pids", "memory"], to: $0) }
        defer { delegation?.remove() }
        let started = try devenv(project, delegation, ["shell", "--detach"])
        #expect(started.succeeded && !started.stderr.contains("warning"), "\(started.stdout)\(started.stderr)")
        defer { _ = try? devenv(project, delegation, ["stop"]) }
        let cgroups = try record(project)["cgroups"] as? [String] ?? []
        #expect(cgroups.count == 2, "a pids and a memory cgroup: \(cgroups)")
        if let delegation { #expect(cgroups.allSatisfy { cgroup in delegation.directories.contains { cgroup.hasPrefix($0 + "/") } }, "\(cgroups)") }

        let joined = try devenv(project, delegation, ["exec", "--", "sh", "-c", "cat /proc/self/cgroup; echo pid $$"])
        #expect(joined.succeeded, "\(joined.stderr)")
        let lines = joined.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains(":memory:") && $0.hasSuffix(":/") } && lines.contains { $0.contains(":pids:") && $0.hasSuffix(":/") },
                "inside the environment's cgroups (their namespace's root): \(joined.stdout)")
        let memoryCgroup = try #require(cgroups.first { $0.contains("/memory/") })
        let limit = try String(contentsOfFile: "\(memoryCgroup)/memory.limit_in_bytes", encoding: .utf8)
        #expect(limit == "\(Self.memory)\n", "the environment's memory limit: \(limit)")

        // A session started outside the delegated cgroups (another terminal) joins the same way.
        let outside = try devenv(project, nil, ["exec", "--", "cat", "/proc/self/cgroup"])
        #expect(outside.succeeded && outside.stdout.split(separator: "\n").contains { $0.contains(":memory:") && $0.hasSuffix(":/") },
                "\(outside.stdout)\(outside.stderr)")

        if let delegation, let account = project.runner.account {
            // A session that may not enter the environment's cgroup (a cgroup v2 host where it
            // runs outside the delegated subtree is one) is refused with the reason, before
            // anything of it runs, and the environment stays as it was.
            let entries = ["\(memoryCgroup)/cgroup.procs", "\(memoryCgroup)/tasks"]
            for entry in entries { #expect(chown(entry, 0, 0) == 0) }
            let refused = try devenv(project, nil, ["exec", "--", "sh", "-c", "echo ran > /tmp/refused-ran"])
            for entry in entries { #expect(chown(entry, account.uid, account.gid) == 0) }
            #expect(refused.status == 125 && refused.stderr.contains("join the environment's cgroup: open \(memoryCgroup)") && refused.stderr.contains("permission denied")
                    && refused.stderr.contains("from inside the cgroups delegated to you"), "\(refused.stdout)\(refused.stderr)")
            let unchanged = try devenv(project, delegation, ["exec", "--", "sh", "-c", "test ! -e /tmp/refused-ran && echo clean"])
            #expect(unchanged.stdout == "clean\n", "\(unchanged.status) \(unchanged.stdout)\(unchanged.stderr)")
        }

        let stopped = try devenv(project, delegation, ["stop"])
        #expect(stopped.succeeded, "\(stopped.stderr)")
        for cgroup in cgroups { #expect(!FileManager.default.fileExists(atPath: cgroup), "\(cgroup) is removed") }
    }

    /// Rootless without delegated cgroups the environment starts whole, with one warning that
    /// says why and what is still enforced (processes, by RLIMIT_NPROC in its user namespace),
    /// and a joined session gets the same rlimit.
    @Test func rootlessWithoutDelegationWarnsAndJoins() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: .rootless)
        let started = try devenv(project, nil, ["shell", "--detach"])
        #expect(started.succeeded, "\(started.stderr)")
        #expect(started.stderr.contains("warning: no cgroup for resource limits (") && started.stderr.contains("processes are limited to 512 by RLIMIT_NPROC")
                && started.stderr.contains("the memory limit is not enforced"), "\(started.stderr)")
        defer { _ = try? devenv(project, nil, ["stop"]) }
        #expect((try record(project)["cgroups"] as? [String] ?? []).isEmpty)
        let joined = try devenv(project, nil, ["exec", "--", "sh", "-c", "ulimit -u"])
        #expect(joined.succeeded && joined.stdout == "512\n", "\(joined.stdout)\(joined.stderr)")
        #expect(try devenv(project, nil, ["ps", "--json"]).stdout.contains(project.root))
    }
}
