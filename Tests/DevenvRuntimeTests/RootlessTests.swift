@testable import DevenvRuntime
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// devenv run by an unprivileged user with a subordinate range: user namespace, newuidmap,
/// overlay with user xattrs, files owned by the user on the host.
@Suite(.enabled(if: Requirement.root(), "needs root to create the test user (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct RootlessTests {
    func run(_ script: String, user: TestUser, workspace: String, extra: [String] = []) throws -> Command.Result {
        // The image as a rootless store unpacks it: owned by container root's host id.
        let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
        return try user.devenv(["run", "--rootfs", rootfs, "--no-tty"] + extra + ["--", "sh", "-c", script], directory: workspace).wait()
    }

    @Test func theUserKeepsTheirIdentity() throws {
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let result = try run("""
            id -u; id -g; whoami; echo $HOME; touch $HOME/writable && echo home=ok
            cat /proc/self/uid_map | wc -l; grep -E '^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs):' /proc/self/status
            touch /workspace/made; mkdir /workspace/dir
            chown 1234 /workspace/made 2>/dev/null && echo chown=allowed || echo chown=denied
            """, user: user, workspace: workspace)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(5)) == ["\(user.uid)", "\(user.gid)", user.name, "/home/\(user.name)", "home=ok"])
        #expect(lines[5] == "3")
        #expect(lines.contains("CapEff:\t0000000000000000"))
        #expect(lines.contains("CapBnd:\t00000000a00425fb"))
        #expect(lines.contains("CapInh:\t0000000000000000"))
        #expect(lines.contains("CapAmb:\t0000000000000000"))
        #expect(lines.contains("NoNewPrivs:\t1"))
        #expect(lines.contains("chown=denied"))
        for name in ["made", "dir"] {
            var info = stat()
            #expect(stat(workspace + "/" + name, &info) == 0)
            #expect(info.st_uid == user.uid && info.st_gid == user.gid, "\(name) is \(info.st_uid):\(info.st_gid)")
        }
    }

    @Test func exitStatusesAndNetworkNone() throws {
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        #expect(try run("exit 42", user: user, workspace: workspace).status == 42)
        #expect(try run("kill -9 $$", user: user, workspace: workspace).status == 137)
        let isolated = try run("ls /sys/class/net; ip link show lo | grep -c UP", user: user, workspace: workspace, extra: ["--network", "none"])
        #expect(isolated.stdout == "lo\n1\n", "\(isolated.stderr)")
    }

    @Test func nothingOfTheRunStaysOnTheHost() throws {
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
        #expect(try run("touch /tmp/marker", user: user, workspace: workspace).status == 0)
        #expect(access(rootfs + "/tmp/marker", F_OK) != 0)
        // The runtime directory is only a mount point; the run left nothing in it.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "/tmp/devenv-\(user.uid)")) ?? []).isEmpty)
    }

    @Test func doctorAsTheUser() throws {
        let user = try TestUser.ensure()
        let store = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(store) }
        let result = try user.devenv(["doctor", "--store", store], directory: "/").wait()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("ok    overlayfs: mounted in a user namespace"))
        #expect(result.stdout.contains("ok    subordinate ids: uids \(user.subordinateUID):65536"))
    }

    @Test func withoutARangeContainerRootIsTheUser() throws {
        let user = try TestUser.ensureWithoutRanges()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let result = try run("""
            id -u; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups
            grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; touch /workspace/made; touch /etc/as-root && echo etc=writable
            """, user: user, workspace: workspace)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.first == "0")
        #expect(lines.dropFirst().prefix(2) == ["0 \(user.uid) 1", "0 \(user.gid) 1"])
        #expect(lines.contains("deny"))
        #expect(lines.contains("CapEff:\t00000000a00425fb"))
        #expect(lines.contains("etc=writable"))
        var info = stat()
        #expect(stat(workspace + "/made", &info) == 0 && info.st_uid == user.uid && info.st_gid == user.gid)
    }
}
