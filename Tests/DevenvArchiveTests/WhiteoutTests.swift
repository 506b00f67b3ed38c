@testable import DevenvArchive
import DevenvTestSupport
import DevenvOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Whiteouts in layers and the overlay -> OCI translation of commits.
@Suite struct WhiteoutTests {
    static func isWhiteout(_ info: stat?) -> Bool { info.map { $0.st_mode & S_IFMT == S_IFCHR && $0.st_rdev == 0 } ?? false }

    static func xattr(_ path: String, _ name: String) throws -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return try XattrIO.value(.descriptor(fd), name: Array(name.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every base name below `root`, symlinks not followed.
    static func allNames(_ root: String) throws -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).map { ($0 as NSString).lastPathComponent }
    }

    @Test(arguments: [".wh.", ".wh..", ".wh...", "etc/.wh..", "etc/.wh..."])
    func invalidWhiteoutNamesAreErrors(_ name: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.file("etc/keep", Array("x".utf8))
        tar.file(name)
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .invalidWhiteout)
        #expect(error?.entry == Array(name.utf8))
    }

    @Test func opaqueMarkerInABaseLayerIsHarmless() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file(".wh..wh..opq")
        tar.directory("etc/")
        tar.file("etc/.wh..wh..opq")
        tar.file("etc/hosts", Array("hosts".utf8))
        tar.file("fresh/.wh..wh..opq")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(try Self.xattr(sandbox.root, "user.overlay.opaque") == "y")
        #expect(try Self.xattr(sandbox.root + "/etc", "user.overlay.opaque") == "y")
        #expect(try Self.xattr(sandbox.root + "/fresh", "user.overlay.opaque") == "y")
        #expect(sandbox.contents("etc/hosts") == "hosts")
        #expect(!sandbox.exists(".wh..wh..opq") && !sandbox.exists("etc/.wh..wh..opq"))
    }

    /// Issue 11 item 6: a whiteout name as a directory used to become a real `.wh.etc/` (or
    /// `.wh..wh..opq/`) in the snapshot. The spec reserves the prefix: no tree a layer
    /// describes has such a directory, so the layer is refused and nothing named `.wh.*`
    /// reaches the snapshot.
    @Test(arguments: [".wh.etc/somefile", ".wh..wh..opq/somefile", "usr/.wh.bin/sh", ".wh.x/deeper/file"])
    func whiteoutNameAsADirectoryIsRefused(_ name: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file(name, Array("ordinary".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .invalidWhiteout)
        #expect(error?.description.contains("cannot have entries below it") == true, "\(String(describing: error))")
        #expect(try Self.allNames(sandbox.root).allSatisfy { !$0.hasPrefix(".wh.") })
    }

    /// Issue 11 item 6: a whiteout is an empty regular file (image-spec); a directory,
    /// symlink, device or FIFO with a whiteout name is not a valid whiteout and not a valid
    /// file either. It used to act as a whiteout whatever its type (and a `.wh.usr/`
    /// directory entry then let `.wh.usr/x` create a real `.wh.usr`).
    @Test(arguments: ["directory", "symlink", "fifo", "opaque-directory", "opaque-symlink"])
    func whiteoutThatIsNotARegularFileIsRefused(_ kind: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        switch kind {
        case "directory": tar.directory(".wh.usr/")
        case "symlink": tar.symlink(".wh.etc", to: "x")
        case "fifo": tar.fifo(".wh.bin")
        case "opaque-directory": tar.directory("tmp/.wh..wh..opq/")
        default: tar.symlink("tmp/.wh..wh..opq", to: "/")
        }
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .invalidWhiteout)
        #expect(error?.description.contains("a whiteout must be a regular file") == true, "\(String(describing: error))")
        #expect(try Self.allNames(sandbox.root).allSatisfy { !$0.hasPrefix(".wh.") && $0 != "usr" && $0 != "etc" && $0 != "bin" })
    }

    /// A symlink inside the layer whose target has a whiteout name: writing through it would
    /// create that directory, so the parent is refused.
    @Test func symlinkToAWhiteoutNameIsNotFollowedIntoANewDirectory() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.symlink("sneaky", to: "etc")
        tar.file("sneaky/ok", Array("ok".utf8))
        tar.symlink("trick", to: "etc/.wh.passwd")
        tar.file("trick/x", Array("x".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        // The target does not exist: a dangling symlink is never followed into a new directory.
        #expect(error?.entry == Array("trick/x".utf8))
        #expect(sandbox.contents("etc/ok") == "ok")
        #expect(try Self.allNames(sandbox.root).allSatisfy { !$0.hasPrefix(".wh.") })
    }

    @Test func hardlinkToAWhiteoutNameIsRefused() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file(".wh.gone")
        tar.hardlink("link", to: ".wh.gone")
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .invalidWhiteout)
        #expect(error?.entry == Array("link".utf8))
    }

    /// Hardlinked whiteouts (a writer storing repeated empty files once) are whiteouts.
    @Test func hardlinkNamedLikeAWhiteoutIsAWhiteout() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("empty")
        tar.hardlink(".wh.gone", to: "empty")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(Self.isWhiteout(sandbox.lstatInRoot("gone")))
        #expect(!sandbox.exists(".wh.gone"))
    }

    /// Issue 11 item 13: `.wh.a` then a new `a/` in the same layer deletes the lower `a` and
    /// creates another: the new directory must be opaque (umoci, containerd), in either
    /// order, and also when `a` is created implicitly as a parent.
    /// A layer that whites out `a` and creates it again, in the given order (or with `a`
    /// only implied as a parent): shared by the plain and the real-overlay tests.
    static func recreatedDirectory(_ order: String) -> TarBuilder {
        var tar = TarBuilder()
        switch order {
        case "whiteout-first":
            tar.file(".wh.a")
            tar.directory("a/")
            tar.file("a/new", Array("new".utf8))
        case "directory-first":
            tar.directory("a/")
            tar.file("a/new", Array("new".utf8))
            tar.file(".wh.a")
        default:
            tar.file(".wh.a")
            tar.file("a/new", Array("new".utf8))
        }
        tar.finish()
        return tar
    }

    @Test(arguments: ["whiteout-first", "directory-first", "implicit-parent"])
    func whiteoutThenRecreateMakesTheDirectoryOpaque(_ order: String) throws {
        let sandbox = try Sandbox()
        let tar = WhiteoutTests.recreatedDirectory(order)
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.lstatInRoot("a")?.isDirectory == true)
        #expect(try Self.xattr(sandbox.root + "/a", "user.overlay.opaque") == "y")
        #expect(sandbox.contents("a/new") == "new")
    }

    /// A whiteout and a file of the same name: the file hides the lower one anyway, no xattr.
    @Test func whiteoutThenFileReplacesTheWhiteout() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file(".wh.a")
        tar.file("a", Array("file".utf8))
        tar.directory("plain/")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents("a") == "file")
        #expect(try Self.xattr(sandbox.root + "/plain", "user.overlay.opaque") == nil)
    }

    @Test func whiteoutNeverHidesAFileOfTheSameLayer() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("foo", Array("same layer".utf8))
        tar.file(".wh.foo")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents("foo") == "same layer")
    }

    @Test func aufsMetadataIsSkipped() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory(".wh..wh.plnk/")
        tar.file(".wh..wh.plnk/1234.5678", Array("aufs hardlink store".utf8))
        tar.file(".wh..wh.aufs")
        tar.finish()
        let report = try sandbox.unpack(try sandbox.layer(tar))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).isEmpty)
        #expect(report.warnings.count == 3)
    }

    @Test func overlayXattrsInALayerAreDropped() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("d/", pax: ["SCHILY.xattr.user.overlay.opaque": Array("y".utf8),
                                  "SCHILY.xattr.trusted.overlay.redirect": Array("/etc".utf8),
                                  "SCHILY.xattr.user.kept": Array("yes".utf8)])
        tar.finish()
        let report = try sandbox.unpack(try sandbox.layer(tar))
        #expect(try TreeManifest.xattrs(sandbox.root + "/d") == ["user.kept=yes"])
        #expect(report.warnings.count == 2)
        #expect(report.warnings.allSatisfy { $0.contains("overlayfs namespace") })
    }

    /// Linux 5.8+ lets any user create 0:0 character devices (overlay whiteouts).
    @Test func whiteoutsBecomeCharacterDevices() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.file("etc/.wh.passwd")
        tar.file(".wh.nonexistent")
        tar.file(".wh.withdata", Array("ignored data".utf8))
        tar.file(".wh.later")
        tar.file("later", Array("replaces the whiteout".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(Self.isWhiteout(sandbox.lstatInRoot("etc/passwd")))
        #expect(Self.isWhiteout(sandbox.lstatInRoot("nonexistent")))
        #expect(Self.isWhiteout(sandbox.lstatInRoot("withdata")))
        #expect(sandbox.contents("later") == "replaces the whiteout")
        #expect(!sandbox.exists("etc/.wh.passwd"))
    }

    // MARK: commit: overlay upper dir -> OCI layer

    static func entries(ofLayer path: String) throws -> [TarEntry] {
        let stream = try DecodedStream(path: path, declared: nil, maxBytes: 1 << 30)
        stream.start()
        defer { stream.cancel() }
        var result: [TarEntry] = []
        let reader = try TarReader { try stream.next() }
        while let entry = try reader.next() { result.append(entry) }
        return result
    }

    static func makeUpper(_ base: String) throws -> String {
        let upper = base + "/upper"
        let manager = FileManager.default
        try manager.createDirectory(atPath: upper + "/opq", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: upper + "/uopq", withIntermediateDirectories: true)
        try Data("new".utf8).write(to: URL(fileURLWithPath: upper + "/opq/new"))
        try Data("plain".utf8).write(to: URL(fileURLWithPath: upper + "/plain"))
        #expect(mknod(upper + "/gone", S_IFCHR, 0) == 0)
        #expect(link(upper + "/gone", upper + "/opq/also-gone") == 0)   // overlay shares whiteout inodes
        try setXattr(upper + "/opq", "trusted.overlay.opaque", "y")
        try setXattr(upper + "/uopq", "user.overlay.opaque", "y")
        try setXattr(upper + "/plain", "trusted.overlay.origin", "\u{0}fake")
        try setXattr(upper + "/plain", "user.note", "kept")
        return upper
    }

    static func setXattr(_ path: String, _ name: String, _ value: String) throws {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let code = XattrIO.set(.descriptor(fd), name: Array(name.utf8), value: Array(value.utf8))
        guard code == 0 else { throw SandboxError("setxattr \(name) on \(path): errno \(code)") }
    }

    @Test(.enabled(if: Requirement.root(), "needs root for 0:0 devices and trusted.overlay.* xattrs"))
    func overlayWhiteoutsBecomeOCIWhiteoutsAndBack() throws {
        try Requirement.require(root: true)
        let sandbox = try Sandbox()
        let upper = try Self.makeUpper(sandbox.base)
        let blob = try LayerWriter.write(directory: upper, to: sandbox.base + "/commit.tar.zst")
        let entries = try Self.entries(ofLayer: sandbox.base + "/commit.tar.zst")
        let names = entries.map { String(decoding: $0.path, as: UTF8.self) }
        #expect(names == [".wh.gone", "opq/", "opq/.wh..wh..opq", "opq/.wh.also-gone", "opq/new", "plain", "uopq/", "uopq/.wh..wh..opq"])
        #expect(entries.allSatisfy { !$0.isDevice })
        #expect(entries.flatMap(\.xattrs).map(\.nameString) == ["user.note"])

        var options = UnpackOptions()
        options.overlayXattrPrefix = "trusted.overlay."
        let report = try LayerUnpacker.unpack(layerAt: sandbox.base + "/commit.tar.zst", declared: .zstd, into: sandbox.root, options: options)
        #expect(report.diffID == blob.diffID)
        #expect(Self.isWhiteout(sandbox.lstatInRoot("gone")))
        #expect(Self.isWhiteout(sandbox.lstatInRoot("opq/also-gone")))
        #expect(try Self.xattr(sandbox.root + "/opq", "trusted.overlay.opaque") == "y")
        #expect(try Self.xattr(sandbox.root + "/uopq", "trusted.overlay.opaque") == "y")
        #expect(try TreeManifest.xattrs(sandbox.root + "/plain") == ["user.note=kept"])
    }

    @Test(.enabled(if: Requirement.root(), "needs root for trusted.overlay.* xattrs"))
    func upperDirWithMetacopyOrRedirectIsRefused() throws {
        try Requirement.require(root: true)
        for flag in ["metacopy", "redirect"] {
            let sandbox = try Sandbox()
            try Data("x".utf8).write(to: URL(fileURLWithPath: sandbox.root + "/file"))
            try Self.setXattr(sandbox.root + "/file", "trusted.overlay.\(flag)", flag == "redirect" ? "/x" : "")
            do {
                _ = try LayerWriter.write(directory: sandbox.root, to: sandbox.base + "/out.tar")
                Issue.record("a \(flag) upper dir was committed")
            } catch let error as ArchiveError {
                #expect(error.kind == .unsupportedInput)
                #expect(error.description.contains("\(flag)=off") || error.description.contains(flag))
            }
            #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/out.tar"))
        }
    }

    /// A 0:0 character device in a plain directory (a staged copy, an ADD of an archive with
    /// whiteouts, `image import DIR`) would act as a whiteout wherever the layer is unpacked.
    @Test func withoutTranslationAZeroZeroDeviceIsRefused() throws {
        let sandbox = try Sandbox()
        let tree = sandbox.base + "/tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: false)
        #expect(mknod(tree + "/zero", S_IFCHR, 0) == 0)
        var options = LayerWriteOptions()
        options.translateOverlayWhiteouts = false
        do {
            _ = try LayerWriter.write(directory: tree, to: sandbox.base + "/raw.tar", options: options)
            Issue.record("a 0:0 device was committed")
        } catch let error as ArchiveError {
            #expect(error.kind == .forbiddenEntry)
            #expect(error.entry == Array("zero".utf8))
            #expect(error.description.contains("entry 'zero': a 0:0 character device is an overlay whiteout"))
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/raw.tar"))
    }

    /// Issue 11 item 6: whatever its type, a node named `.wh.*` would be a whiteout or an
    /// opaque marker to every importer; a commit refuses it, naming the path, with or
    /// without overlay translation.
    @Test(arguments: [("file", ".wh.bin"), ("directory", ".wh.usr"), ("symlink", ".wh.etc"), ("file", "tmp/.wh..wh..opq"),
                      ("directory", "deep/er/.wh.x")])
    func whiteoutLookalikeNamesAreRefused(kind: String, path: String) throws {
        for translate in [true, false] {
            let sandbox = try Sandbox()
            let tree = sandbox.base + "/tree"
            let target = tree + "/" + path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            switch kind {
            case "file": try Data("x".utf8).write(to: URL(fileURLWithPath: target))
            case "directory": try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            default: #expect(symlink("x", target) == 0)
            }
            var options = LayerWriteOptions()
            options.translateOverlayWhiteouts = translate
            do {
                _ = try LayerWriter.write(directory: tree, to: sandbox.base + "/out.tar", options: options)
                Issue.record("\(path) was committed")
            } catch let error as ArchiveError {
                #expect(error.kind == .forbiddenEntry)
                #expect(error.entry == Array(path.utf8))
                #expect(error.description.contains("entry '\(path)': a file named '.wh.*' cannot be stored in a layer"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/out.tar"))
        }
    }

    /// Only a node's own name counts: a directory named `x.wh.` or a file `a.wh.b` is fine.
    @Test func namesThatMerelyContainWhiteoutPrefixAreKept() throws {
        let sandbox = try Sandbox()
        let tree = sandbox.base + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/x.wh.", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: tree + "/x.wh./a.wh.b"))
        _ = try LayerWriter.write(directory: tree, to: sandbox.base + "/out.tar")
        #expect(try Self.entries(ofLayer: sandbox.base + "/out.tar").map { String(decoding: $0.path, as: UTF8.self) } == ["x.wh./", "x.wh./a.wh.b"])
    }
}
