@testable import DevenvArchive
import DevenvTestSupport
import DevenvOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A step's changes made through a real overlayfs mount, committed from the
/// upper dir, then applied on a clean lower stack, give the same view as the step saw.
@Suite struct OverlayCommitTests {
    static let overlayAvailable = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8))?.contains("\toverlay\n") ?? false

    /// Mounts an overlay on `target`, and unmounts it when the returned token is released.
    final class Mount {
        let target: String
        init(lower: [String], upper: String? = nil, work: String? = nil, on target: String) throws {
            self.target = target
            var data = "lowerdir=" + lower.joined(separator: ":")
            if let upper, let work { data += ",upperdir=\(upper),workdir=\(work)" }
            data += ",metacopy=off,redirect_dir=off"
            guard mount("overlay", target, "overlay", 0, data) == 0 else {
                throw SandboxError("mount overlay on \(target) (\(data)): errno \(errno)")
            }
        }
        deinit { umount2(target, 0) }
    }

    static func run(_ arguments: [String]) throws {
        guard try Shell.run(arguments) == 0 else { throw SandboxError("\(arguments) failed") }
    }

    @Test(.enabled(if: Requirement.root() && (overlayAvailable || Requirement.onCI), "needs root and overlayfs"))
    func commitOfAnOverlayUpperDirRoundTrips() throws {
        try Requirement.require(root: true)
        let sandbox = try Sandbox()
        let base = sandbox.base
        let manager = FileManager.default
        for directory in ["base/etc", "base/opt/d", "base/usr/bin", "lower1", "lower2", "upper", "work", "merged", "check"] {
            try manager.createDirectory(atPath: base + "/" + directory, withIntermediateDirectories: true)
        }
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: base + "/base/etc/a"))
        for name in ["1", "2", "3"] { try Data(name.utf8).write(to: URL(fileURLWithPath: base + "/base/opt/d/" + name)) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: base + "/base/usr/bin/x"))
        link(base + "/base/usr/bin/x", base + "/base/usr/bin/y")
        try Data("f".utf8).write(to: URL(fileURLWithPath: base + "/base/f"))
        try WhiteoutTests.setXattr(base + "/base/f", "user.k", "v")
        symlink("etc/a", base + "/base/s")

        var unpack = UnpackOptions()
        unpack.overlayXattrPrefix = "trusted.overlay."
        _ = try LayerWriter.write(directory: base + "/base", to: base + "/base.tar.zst")
        _ = try LayerUnpacker.unpack(layerAt: base + "/base.tar.zst", declared: .zstd, into: base + "/lower1", options: unpack)

        let expected: TreeManifest
        do {
            let merged = base + "/merged"
            let mount = try Mount(lower: [base + "/lower1"], upper: base + "/upper", work: base + "/work", on: merged)
            #expect(unlink(merged + "/etc/a") == 0)
            try manager.removeItem(atPath: merged + "/opt/d")
            #expect(mkdir(merged + "/opt/d", 0o755) == 0)
            try Data().write(to: URL(fileURLWithPath: merged + "/opt/d/new"))
            #expect(chmod(merged + "/usr/bin/x", 0o600) == 0)
            #expect(link(merged + "/usr/bin/x", merged + "/usr/bin/z") == 0)
            try Self.run(["python3", "-c", "import os, sys; os.removexattr(sys.argv[1], 'user.k')", merged + "/f"])
            let now = timespec(tv_sec: 1_800_000_000, tv_nsec: 0)
            #expect(utimensat(AT_FDCWD, merged + "/s", [now, now], AT_SYMLINK_NOFOLLOW) == 0)
            expected = try withExtendedLifetime(mount) { try TreeManifest(merged) }
        }

        let blob = try LayerWriter.write(directory: base + "/upper", to: base + "/step.tar.zst")
        let entries = try WhiteoutTests.entries(ofLayer: base + "/step.tar.zst")
        let names = Set(entries.map { String(decoding: $0.path, as: UTF8.self) })
        #expect(names.contains("etc/.wh.a"))
        #expect(names.contains("opt/d/.wh..wh..opq") || names.isSuperset(of: ["opt/d/.wh.1", "opt/d/.wh.2", "opt/d/.wh.3"]))
        #expect(names.contains("opt/d/new"))
        let binaries = entries.filter { $0.path == Array("usr/bin/x".utf8) || $0.path == Array("usr/bin/z".utf8) }
        #expect(binaries.map(\.kind).sorted { "\($0)" < "\($1)" } == [.file, .hardlink])
        #expect(entries.allSatisfy { $0.xattrs.allSatisfy { !$0.nameString.contains("overlay") } })

        _ = try LayerUnpacker.unpack(layerAt: base + "/step.tar.zst", declared: blob.compression, into: base + "/lower2", options: unpack)
        let check = try Mount(lower: [base + "/lower2", base + "/lower1"], on: base + "/check")
        let actual = try withExtendedLifetime(check) { try TreeManifest(base + "/check") }
        #expect(expected.differences(actual) == [])
        #expect(actual.records["f"]?.xattrs == [])
        #expect(actual.records["etc/a"] == nil)
        #expect(actual.records["opt/d/1"] == nil)
        #expect(actual.records["usr/bin/z"]?.linkGroup == "usr/bin/x")
        #expect(actual.records.count == 11)
    }
}
