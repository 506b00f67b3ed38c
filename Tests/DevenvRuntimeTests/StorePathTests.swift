@testable import DevenvRuntime
import DevenvSystem
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Any valid store path works as overlay layers (issue 11, item 15): overlayfs parses `\`,
/// `,` and `:` in its options, fsconfig takes at most 256 bytes per value and mount(2) one
/// page for all of them; devenv hands the kernel descriptor paths instead.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct StorePathTests {
    /// `count` layer directories under `store`: the busybox tree at the bottom, then one
    /// directory per layer adding `/layers/<n>`; topmost first, as `lowerDirs` wants them.
    func layers(under store: String, count: Int) throws -> [String] {
        let snapshots = store + "/snapshots"
        try FileManager.default.createDirectory(atPath: snapshots, withIntermediateDirectories: true)
        var directories: [String] = []
        for index in 0..<count {
            let directory = snapshots + "/sha256-" + String(repeating: "a", count: 62) + String(format: "%02d", index)
            if index == 0 {
                try Fixture.shell("cp -a \"$0\" \"$1\"", arguments: [try Fixture.busyboxRootfs(), directory])
            } else {
                try FileManager.default.createDirectory(atPath: directory + "/layers", withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: directory + "/layers/\(index)", contents: Data()))
            }
            directories.insert(directory, at: 0)
        }
        return directories
    }

    func run(lowerDirs: [String], upper: UpperLayer = .temporary) throws -> Captured {
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        var spec = Fixture.spec(["sh", "-c", "ls /layers | sort -n | tr '\\n' ' '; echo > /built"], workspace: workspace, rootfs: "/")
        spec.rootfs = RootfsSpec(lowerDirs: lowerDirs, upper: upper)
        return try Fixture.runner().capture(spec)
    }

    @Test func aStorePathWithABackslashCommaAndColon() throws {
        try Fixture.requireRoot()
        let base = try Fixture.temporaryDirectory()
        defer { Fixture.remove(base) }
        let store = base + "/st\\ore,x:y"
        let lowerDirs = try layers(under: store, count: 3)
        try Fixture.shell("mkdir \"$0/upper\" \"$0/work\"", arguments: [store])
        // A build's kept upper directory lives in the store too.
        let result = try run(lowerDirs: lowerDirs, upper: .directory(upper: store + "/upper", work: store + "/work"))
        #expect(result.status == .exited(0), "\(result.stderr)")
        #expect(result.stdout == "1 2 ")
        #expect(access(store + "/upper/built", F_OK) == 0)
    }

    @Test func aLongStorePathWithManyLayers() throws {
        try Fixture.requireRoot()
        let base = try Fixture.temporaryDirectory()
        defer { Fixture.remove(base) }
        var store = base
        while store.utf8.count < 450 { store += "/" + String(repeating: "s", count: 60) }
        let lowerDirs = try layers(under: store, count: 12)
        #expect(lowerDirs.allSatisfy { $0.utf8.count > 450 })
        let result = try run(lowerDirs: lowerDirs)
        #expect(result.status == .exited(0), "\(result.stderr)")
        #expect(result.stdout == "1 2 3 4 5 6 7 8 9 10 11 ")
    }

    /// Rootless goes through the same overlay code, in a user namespace (`userxattr`).
    @Test func rootlessWithAnOddLongRootfsPath() throws {
        try Fixture.requireRoot()
        let user = try TestUser.ensure()
        let base = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(base) }
        var store = base + "/st\\ore,x:y"
        while store.utf8.count < 450 { store += "/" + String(repeating: "s", count: 60) }
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        try Fixture.shell("chown -R \(user.uid):\(user.gid) \"$0\" && ln -s \"$1\" \"$2\"",
                          arguments: [base, try Fixture.busyboxRootfs(owner: user.subordinateUID), store + "/rootfs"])
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        let result = try user.devenv(["run", "--rootfs", store + "/rootfs", "--no-tty", "--", "sh", "-c", "echo ok"], directory: workspace).wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n")
    }
}
