@testable import DevenvRuntime
import DevenvSystem
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Resource limits with real containers and small limits: a fork bomb, a memory hog, leftovers,
/// a full /dev/shm, and the rootless fallback to rlimits.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct ResourceLimitTests {
    func run(_ script: String, limits: ResourceLimits) throws -> Captured {
        try Fixture.requireRoot()
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.remove(directory) }
        var spec = Fixture.spec(["sh", "-c", script], workspace: directory, rootfs: try Fixture.busyboxRootfs())
        spec.limits = limits
        return try Fixture.runner().capture(spec)
    }

    /// Counts the container's processes with shell builtins only: at the limit nothing can fork.
    static let bombThenCount = """
        mkfifo /tmp/never && exec 3<>/tmp/never
        bomb() { bomb | bomb & }
        bomb 2>/dev/null
        read -t 1 x <&3
        set -- /proc/[0-9]*; echo "processes=$#"
        """

    @Test func aForkBombStopsAtThePidsLimit() throws {
        let result = try run(Self.bombThenCount, limits: ResourceLimits(pids: 24))
        #expect(result.status == .exited(0), "\(result.stderr)")
        let count = Int(result.stdout.split(separator: "=").last?.split(separator: "\n").first ?? "") ?? -1
        #expect(count > 1 && count <= 24, "\(result.stdout)")
    }

    @Test func aMemoryHogIsKilledByTheMemoryLimit() throws {
        let result = try run("exec dd if=/dev/zero of=/dev/null bs=96M count=1", limits: ResourceLimits(memory: 32 << 20))
        #expect(result.status == .signaled(SIGKILL), "\(result.stderr)")
        #expect(result.status.shellCode == 137)
        // Without the limit the same allocation succeeds.
        #expect(try run("exec dd if=/dev/zero of=/dev/null bs=96M count=1 2>/dev/null", limits: .default).status == .exited(0))
    }

    @Test func devShmIsBounded() throws {
        let result = try run("""
            df -k /dev/shm | tail -1 | awk '{print "size=" $2}'
            dd if=/dev/zero of=/dev/shm/fill bs=1M count=32 2>/dev/null; echo "dd=$?"
            du -k /dev/shm/fill | awk '{print "used=" $1}'
            """, limits: ResourceLimits(shmSize: 8 << 20))
        #expect(result.stdout == "size=8192\ndd=1\nused=8192\n", "\(result.stderr)")
        #expect(try run("df -k /dev/shm | tail -1 | awk '{print $2}'", limits: .default).stdout == "1048576\n")
    }

    /// Through the CLI, so the cgroup is named after a known devenv pid: it holds the
    /// container while it runs, carries the limits, and is gone, with everything in it, after.
    @Test func theCgroupHoldsTheContainerAndGoesWithIt() throws {
        try Fixture.requireRoot()
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        let marker = String(Int.random(in: 100_000...999_999))
        let running = try Command.start(try Fixture.devenvBinary(), [
            "run", "--rootfs", try Fixture.busyboxRootfs(), "--no-tty", "--memory", "64m", "--pids", "100", "--cpus", "0.5", "--",
            "sh", "-c", "sleep \(marker) & sleep \(marker) & touch /workspace/ready; while [ ! -e /workspace/go ]; do sleep 0.02; done"],
            directory: workspace)
        #expect(waitForFile(workspace + "/ready"))
        let prefix = "devenv-\(running.pid)-"
        let pids = try cgroups(in: "/sys/fs/cgroup/pids", prefix: prefix)
        #expect(pids.count == 1)
        if let pids = pids.first {
            #expect(FileDescriptor.readSystemText(pids + "/pids.max") == "100\n")
            #expect((FileDescriptor.readSystemText(pids + "/cgroup.procs") ?? "").split(separator: "\n").count >= 4) // init, sh, 2 × sleep
        }
        #expect(try cgroups(in: "/sys/fs/cgroup/cpu", prefix: prefix).map { FileDescriptor.readSystemText($0 + "/cpu.cfs_quota_us") } == ["50000\n"])
        let memoryParent = "/sys/fs/cgroup/memory" + (ProcCgroup.parse(FileDescriptor.readSystemText("/proc/self/cgroup") ?? "").v1["memory"] ?? "/")
        #expect(try cgroups(in: memoryParent, prefix: prefix).map { FileDescriptor.readSystemText($0 + "/memory.limit_in_bytes") } == ["67108864\n"])
        FileManager.default.createFile(atPath: workspace + "/go", contents: nil)
        let result = running.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try cgroups(in: "/sys/fs/cgroup/pids", prefix: prefix).isEmpty)
        #expect(try cgroups(in: memoryParent, prefix: prefix).isEmpty)
        #expect(hostProcesses(withArgument: marker).isEmpty)
    }

    /// Real root is exempt from RLIMIT_NPROC, so root's default pids limit is a cgroup: a fork
    /// bomb with the defaults stops at 16384 (pids.events counts the refused forks) and the
    /// host can still start processes. The container waits on a FIFO, not `sleep`, because at
    /// the limit it cannot fork; the bomb stops spreading once the test says go, so the
    /// container ends quickly even on a busy host.
    @Test func aForkBombAsRootStopsAtTheDefaultLimit() throws {
        try Fixture.requireRoot()
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        let running = try Command.start(try Fixture.devenvBinary(), [
            "run", "--rootfs", try Fixture.busyboxRootfs(), "--no-tty", "--", "sh", "-c", """
                mkfifo /tmp/never && exec 3<>/tmp/never
                bomb() { [ -e /workspace/go ] || { bomb | bomb & }; }
                bomb 2>/dev/null
                while [ ! -e /workspace/go ]; do read -t 0.1 x <&3; done
                echo stopped
                """], directory: workspace)
        let deadline = Date().addingTimeInterval(60)
        var cgroup: String?
        var refused = 0
        while Date() < deadline && refused == 0 {
            usleep(100_000)
            cgroup = try cgroups(in: "/sys/fs/cgroup/pids", prefix: "devenv-\(running.pid)-").first
            guard let cgroup else { continue }
            refused = Int((FileDescriptor.readSystemText(cgroup + "/pids.events") ?? "").split(separator: " ").last?.split(separator: "\n").first ?? "") ?? 0
        }
        if let cgroup {
            #expect(FileDescriptor.readSystemText(cgroup + "/pids.max") == "\(ResourceLimits.defaultPids)\n")
            #expect((Int((FileDescriptor.readSystemText(cgroup + "/pids.current") ?? "").split(separator: "\n").first ?? "") ?? .max) <= ResourceLimits.defaultPids)
        }
        #expect(cgroup != nil && refused > 0, "the bomb never reached the limit")
        // The host still has pids to spare.
        #expect(try Command.run("/bin/true", []).status == 0)
        FileManager.default.createFile(atPath: workspace + "/go", contents: nil)
        let result = running.wait(seconds: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "stopped\n")
        #expect(result.stderr.isEmpty)
        #expect(try cgroups(in: "/sys/fs/cgroup/pids", prefix: "devenv-\(running.pid)-").isEmpty)
    }

    /// The test user's devenv has no writable cgroup on a hybrid host: it warns once and the
    /// pids limit holds as RLIMIT_NPROC. Where the user does have a delegated cgroup (v2 with
    /// systemd), the same bomb is stopped by it and no warning appears.
    @Test func rootlessWithoutDelegationWarnsAndUsesRlimits() throws {
        try Fixture.requireRoot()
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let doctor = try user.devenv(["doctor"], directory: "/").wait()
        let delegated = !doctor.stdout.contains("no writable cgroup")
        let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
        let result = try user.devenv(["run", "--rootfs", rootfs, "--no-tty", "--pids", "24", "--", "sh", "-c",
                                      "ulimit -u; " + Self.bombThenCount], directory: workspace).wait()
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.hasPrefix("devenv: warning:") }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let count = Int(lines.last?.split(separator: "=").last ?? "") ?? -1
        #expect(count > 1 && count <= 24, "\(result.stdout)")
        if delegated {
            #expect(warnings.isEmpty)
        } else {
            #expect(warnings == ["devenv: warning: no cgroup for resource limits (cgroup v2 has no pids controller, and cgroup v1 is not writable by uid \(user.uid)); processes are limited to 24 by RLIMIT_NPROC; hint: cgroup v1 delegates nothing to users; cgroup v2 (systemd.unified_cgroup_hierarchy=1) with a systemd user session does"],
                    "\(result.stderr)")
            #expect(lines.first == "24")
        }
    }

    private func cgroups(in parent: String, prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.hasPrefix(prefix) }.map { parent + "/" + $0 }
    }

    private func hostProcesses(withArgument argument: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            guard Int(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == argument }
        }
    }
}
