@testable import DevenvRuntime
import DevenvSystem
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Root's containers have no user namespace, so the working tree of a non-root owner is
/// idmapped: container root acts as the owner there (issue 11, item 3). A setuid-root binary
/// made inside is the owner's on the host and gives them nothing.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct WorkingTreeOwnershipTests {
    @Test func theIDMapOfRootActingAsAnOwner() {
        #expect(IDMapping.procText(IDMapping.rootActsAs(1000)) == "1000 0 1\n1 1 999\n1001 1001 4294966294\n")
        #expect(IDMapping.procText(IDMapping.rootActsAs(1)) == "1 0 1\n2 2 4294967293\n")
        let hint = SetupHint.forSetup("bind /src on /workspace \(OwnerMappedMounts.stage): invalid argument (EINVAL)", errno: EINVAL)
        #expect(hint?.contains("idmapped mounts") == true)
    }

    func run(_ script: String, workspace: String) throws -> Captured {
        let spec = Fixture.spec(["sh", "-c", script], workspace: workspace, rootfs: try Fixture.busyboxRootfs())
        return try Fixture.runner().capture(spec)
    }

    @Test func aSetuidRootBinaryMadeInsideGivesTheOwnerNothing() throws {
        try Fixture.requireRoot()
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let source = "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"%d\\n\", (int)geteuid()); return 0; }\n"
        #expect(FileManager.default.createFile(atPath: workspace + "/euid.c", contents: Data(source.utf8)))
        try Fixture.shell("gcc -static -o \"$0/euid\" \"$0/euid.c\" && chown \(user.uid):\(user.gid) \"$0/euid\" \"$0/euid.c\"", arguments: [workspace])
        let result = try run("cp /workspace/euid /workspace/rootsh && chown 0:0 /workspace/rootsh && chmod 4755 /workspace/rootsh && ls -ln /workspace/rootsh",
                             workspace: workspace)
        #expect(result.status == .exited(0), "\(result.stderr)")
        // Inside it looks like root's, as the user's files do.
        #expect(result.stdout.hasPrefix("-rwsr-xr-x    1 0        0 "), "\(result.stdout)")
        var info = stat()
        #expect(stat(workspace + "/rootsh", &info) == 0)
        #expect(info.st_uid == user.uid && info.st_gid == user.gid)
        let ran = try Command.run("/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", workspace + "/rootsh"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout == "\(user.uid)\n")
    }

    /// What container root makes in the tree is the owner's (they can delete it). The host
    /// root's files there are nobody's inside; root may hand them to the owner (the kernel lets
    /// CAP_CHOWN fix unmapped owners), never the other way round.
    @Test func filesMadeInsideBelongToTheTreesOwner() throws {
        try Fixture.requireRoot()
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        #expect(FileManager.default.createFile(atPath: workspace + "/host-root", contents: Data("x".utf8)))
        let result = try run("""
            mkdir /workspace/out && echo built > /workspace/out/file
            ls -ln /workspace/host-root | awk '{print $3, $4}'
            chown 0:0 /workspace/host-root && ls -ln /workspace/host-root | awk '{print $3, $4}'
            """, workspace: workspace)
        #expect(result.status == .exited(0), "\(result.stderr)")
        #expect(result.stdout == "65534 65534\n0 0\n")
        for path in ["/out", "/out/file", "/host-root"] {
            var info = stat()
            #expect(stat(workspace + path, &info) == 0 && info.st_uid == user.uid && info.st_gid == user.gid, "\(path)")
        }
    }

    /// A tree root owns is mounted as it is: nothing to map.
    @Test func aRootOwnedTreeIsNotMapped() throws {
        try Fixture.requireRoot()
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        let result = try run("touch /workspace/made; grep -c ' /workspace .*idmapped' /proc/self/mountinfo", workspace: workspace)
        #expect(result.stdout == "0\n")
        var info = stat()
        #expect(stat(workspace + "/made", &info) == 0 && info.st_uid == 0)
    }
}
