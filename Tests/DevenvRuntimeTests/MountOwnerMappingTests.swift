@testable import DevenvRuntime
import DevenvSystem
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12: a devcontainer's `remoteUser` writes the working tree its owner owns: as root
/// the tree is idmapped so that the owner appears as that user.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct MountOwnerMappingTests {
    @Test func theMapsOfAUserActingAsTheOwner() {
        #expect(IDMapping.procText(IDMapping.idActsAs(1500, owner: 1001)) == "1001 1500 1\n1 1 1000\n1002 1002 498\n1501 1501 4294965794\n")
        #expect(IDMapping.procText(IDMapping.idActsAs(5, owner: 1001)) == "1001 5 1\n1 1 4\n6 6 995\n1002 1002 4294966293\n")
        // Root acting as the owner is the same map with id 0.
        #expect(IDMapping.idActsAs(0, owner: 1000) == IDMapping.rootActsAs(1000))
        #expect(IDMapping.procText(IDMapping.rootActsAs(1000)) == "1000 0 1\n1 1 999\n1001 1001 4294966294\n")
    }

    /// As root: uid 1500 in the container writes a tree the test user owns; on disk what it
    /// made is the user's, and inside the user's files look 1500's.
    @Test func asRootTheOwnerAppearsAsTheMountsUser() throws {
        try Fixture.requireRoot()
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        #expect(FileManager.default.createFile(atPath: workspace + "/theirs", contents: Data("x".utf8)))
        chown(workspace + "/theirs", user.uid, user.gid)
        var spec = Fixture.spec(["sh", "-c", "id -u; ls -ln /workspace/theirs | awk '{print $3, $4}'; mkdir /workspace/made && echo y > /workspace/made/f"],
                                workspace: workspace, rootfs: try Fixture.busyboxRootfs())
        spec.process.user = ContainerUser(uid: 1500, gid: 1600, name: "dev", home: "/")
        spec.mounts[0].ownerAppearsAs = MountOwner(uid: 1500, gid: 1600)
        let result = try Fixture.runner().capture(spec)
        #expect(result.status == .exited(0), "\(result.stderr)")
        #expect(result.stdout == "1500\n1500 1600\n", "\(result.stderr)")
        for path in ["made", "made/f"] {
            var info = stat()
            #expect(lstat("\(workspace)/\(path)", &info) == 0)
            #expect(info.st_uid == user.uid && info.st_gid == user.gid, "\(path): \(info.st_uid):\(info.st_gid)")
        }
    }

    /// Root-owned sources stay as they are: mapping another user to on-disk root would let
    /// it make the host root's (setuid) files.
    @Test func aRootOwnedSourceIsNotMappedToTheUser() throws {
        try Fixture.requireRoot()
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        chmod(workspace, 0o755)
        var spec = Fixture.spec(["sh", "-c", "touch /workspace/x"], workspace: workspace, rootfs: try Fixture.busyboxRootfs())
        spec.process.user = ContainerUser(uid: 1500, gid: 1600, name: "dev", home: "/")
        spec.mounts[0].ownerAppearsAs = MountOwner(uid: 1500, gid: 1600)
        let result = try Fixture.runner().capture(spec)
        #expect(result.status == .exited(1), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/x"))
    }
}
