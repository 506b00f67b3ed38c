@testable import DevenvArchive
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 12: entries written through a directory symlink of a LOWER layer
/// (usrmerged `lib -> usr/lib`) resolve through it, as overlayfs will show the layers
/// (Docker, podman, umoci agree), confined to the root like RESOLVE_IN_ROOT. Only the
/// snapshot being unpacked is ever written.
@Suite struct LowerLayerTests {
    /// A usrmerged base: `lib -> usr/lib`, `bin -> usr/bin`, with `usr/lib/x86_64-linux-gnu`.
    static func usrmerged(_ sandbox: Sandbox) throws -> String {
        var tar = TarBuilder()
        tar.directory("usr/")
        tar.directory("usr/bin/")
        tar.file("usr/bin/sh", Array("#!shell".utf8), mode: 0o755)
        tar.directory("usr/lib/", mode: 0o751, mtime: 1_600_000_000)
        tar.directory("usr/lib/x86_64-linux-gnu/", mode: 0o755, mtime: 1_600_000_100)
        tar.file("usr/lib/x86_64-linux-gnu/libc.so.6", Array("libc".utf8))
        tar.symlink("lib", to: "usr/lib")
        tar.symlink("bin", to: "usr/bin")
        tar.finish()
        return try sandbox.lowerLayer(tar, name: "base")
    }

    @Test func parentSymlinkOfALowerLayerIsFollowed() throws {
        let sandbox = try Sandbox()
        let base = try Self.usrmerged(sandbox)
        var tar = TarBuilder()
        tar.file("lib/x86_64-linux-gnu/libfoo.so", Array("foo".utf8))
        tar.file("bin/hello", Array("hello".utf8), mode: 0o755)
        tar.file("lib/newdir/deeper/file", Array("deep".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base])) == nil)
        // Nothing hides the lower symlinks: no `lib` or `bin` in the upper snapshot.
        #expect(!sandbox.exists("lib") && !sandbox.exists("bin"))
        #expect(sandbox.contents("usr/lib/x86_64-linux-gnu/libfoo.so") == "foo")
        #expect(sandbox.contents("usr/bin/hello") == "hello")
        #expect(sandbox.contents("usr/lib/newdir/deeper/file") == "deep")
        // The copied-up directories look like the lower ones (mode and mtime), as overlayfs's
        // copy-up leaves them; the lower file itself is not copied.
        let lib = try #require(sandbox.lstatInRoot("usr/lib"))
        #expect(lib.st_mode & 0o7777 == 0o751)
        #expect(lib.st_mtim.tv_sec == 1_600_000_000)
        #expect(sandbox.lstatInRoot("usr/lib/x86_64-linux-gnu")?.st_mtim.tv_sec == 1_600_000_100)
        #expect(!sandbox.exists("usr/lib/x86_64-linux-gnu/libc.so.6"))
        #expect(sandbox.lstatInRoot("usr/lib/newdir")?.st_mode == S_IFDIR | 0o755)
    }

    /// An explicit directory entry replaces a lower symlink (the layer says so: containerd
    /// and Docker do the same); only parents that the layer does not list resolve through it.
    @Test func explicitDirectoryEntryReplacesALowerSymlink() throws {
        let sandbox = try Sandbox()
        let base = try Self.usrmerged(sandbox)
        var tar = TarBuilder()
        tar.directory("lib/")
        tar.file("lib/own", Array("own".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base])) == nil)
        #expect(sandbox.lstatInRoot("lib")?.isDirectory == true)
        #expect(sandbox.contents("lib/own") == "own")
    }

    /// Symlinks of every lower layer count, topmost first; a whiteout or a higher
    /// non-directory hides a lower symlink, an opaque directory hides what lies below it.
    @Test func overlayRulesDecideWhichLayerCounts() throws {
        let sandbox = try Sandbox()
        var bottom = TarBuilder()
        bottom.directory("usr/")
        bottom.directory("usr/lib/")
        bottom.directory("real/")
        bottom.symlink("gone", to: "usr/lib")
        bottom.directory("opaque/")
        bottom.symlink("opaque/link", to: "/usr/lib")
        bottom.finish()
        let lowest = try sandbox.lowerLayer(bottom, name: "bottom")
        var middle = TarBuilder()
        middle.symlink("alias", to: "real")
        middle.file(".wh.gone")
        middle.file("opaque/.wh..wh..opq")
        middle.finish()
        let upper = try sandbox.lowerLayer(middle, name: "middle", lowers: .directories([lowest]))
        var tar = TarBuilder()
        tar.file("alias/a", Array("a".utf8))
        tar.file("gone/b", Array("b".utf8))
        tar.file("opaque/link/c", Array("c".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([upper, lowest])) == nil)
        #expect(sandbox.contents("real/a") == "a")
        #expect(sandbox.lstatInRoot("gone")?.isDirectory == true)
        #expect(sandbox.contents("gone/b") == "b")
        #expect(sandbox.contents("opaque/link/c") == "c")
        #expect(!sandbox.exists("usr"))
    }

    /// Hostile lower symlinks (absolute, climbing, to host paths that exist beside the root)
    /// resolve inside the root or fail; nothing outside the root changes, lower layers included.
    /// link, its target, where `link/x` lands.
    @Test(arguments: [
        ["etclink", "/etc", "etc/x"],
        ["up", "../../../../..", "x"],
        ["nested/up", "../../../..", "x"],
        ["abs", "/../../usr/./lib/..", "usr/x"],
    ])
    func hostileLowerSymlinksStayInside(_ link: [String]) throws {
        let (target, landing, link) = (link[1], link[2], link[0])
        let sandbox = try Sandbox()
        var lower = TarBuilder()
        lower.directory("etc/")
        lower.directory("usr/")
        lower.directory("usr/lib/")
        lower.directory("nested/")
        lower.symlink(link, to: target)
        lower.finish()
        let base = try sandbox.lowerLayer(lower, name: "hostile")
        var tar = TarBuilder()
        tar.file("\(link)/x", Array("payload".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base])) == nil)
        #expect(sandbox.contents(landing) == "payload")
    }

    @Test(arguments: ["../victim", "/../victim", "../dest-evil"])
    func lowerSymlinkToAHostPathIsDangling(_ target: String) throws {
        let sandbox = try Sandbox()
        var lower = TarBuilder()
        lower.symlink("escape", to: target)
        lower.finish()
        let base = try sandbox.lowerLayer(lower, name: "hostile")
        var tar = TarBuilder()
        tar.file("escape/pwned", Array("payload".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base]))
        #expect(error?.errno == ENOENT, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/victim/pwned"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/dest-evil/pwned"))
    }

    @Test func symlinkLoopAcrossLayersIsAnError() throws {
        let sandbox = try Sandbox()
        var lower = TarBuilder()
        lower.symlink("a", to: "b")
        lower.finish()
        let base = try sandbox.lowerLayer(lower, name: "loop")
        var tar = TarBuilder()
        tar.symlink("b", to: "a")
        tar.file("a/x", Array("x".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base]))
        #expect(error?.errno == ELOOP, "\(String(describing: error))")
    }

    /// A layer unpacked while its lower layers are still downloading: what does not depend on
    /// them unpacks; a parent that might come from them stops the unpack, clearly.
    @Test func pendingLowersStopOnlyWhereTheyMatter() throws {
        let sandbox = try Sandbox()
        var listed = TarBuilder()
        listed.directory("usr/")
        listed.directory("usr/lib/")
        listed.file("usr/lib/x", Array("x".utf8))
        listed.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(listed), lowers: .pending) == nil)
        var unlisted = TarBuilder()
        unlisted.file("lib/x86_64-linux-gnu/libfoo.so", Array("foo".utf8))
        unlisted.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(unlisted, name: "second"), lowers: .pending)
        #expect(error?.kind == .needsLowerLayers)
        #expect(error?.entry == Array("lib/x86_64-linux-gnu/libfoo.so".utf8))
    }

    /// Whiteouts and hardlinks below a lower symlink land where the symlink points.
    @Test func whiteoutsAndHardlinksResolveThroughLowerSymlinks() throws {
        let sandbox = try Sandbox()
        let base = try Self.usrmerged(sandbox)
        var tar = TarBuilder()
        tar.file("lib/x86_64-linux-gnu/.wh.libc.so.6")
        tar.file("lib/x86_64-linux-gnu/libnew.so.1", Array("new".utf8))
        tar.hardlink("lib/x86_64-linux-gnu/libnew.so", to: "lib/x86_64-linux-gnu/libnew.so.1")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), lowers: .directories([base])) == nil)
        let whiteout = try #require(sandbox.lstatInRoot("usr/lib/x86_64-linux-gnu/libc.so.6"))
        #expect(whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == 0)
        let link = try #require(sandbox.lstatInRoot("usr/lib/x86_64-linux-gnu/libnew.so"))
        #expect(link.st_nlink == 2)
        #expect(!sandbox.exists("lib"))
    }
}

/// The same rules through a real overlayfs mount of the snapshots (root: trusted.overlay.).
@Suite struct LowerLayerOverlayTests {
    static func rootOptions() -> UnpackOptions {
        var options = Sandbox.userOptions
        options.overlayXattrPrefix = "trusted.overlay."
        return options
    }

    /// Item 12: the merged view keeps `lib -> usr/lib`, and the new file is visible through it.
    @Test(.enabled(if: Requirement.root() && (OverlayCommitTests.overlayAvailable || Requirement.onCI), "needs root and overlayfs"))
    func mergedViewKeepsTheLowerSymlink() throws {
        try Requirement.require(root: true)
        let sandbox = try Sandbox()
        var lower = TarBuilder()
        lower.directory("usr/")
        lower.directory("usr/lib/")
        lower.directory("usr/lib/x86_64-linux-gnu/")
        lower.file("usr/lib/x86_64-linux-gnu/libc.so.6", Array("libc".utf8))
        lower.symlink("lib", to: "usr/lib")
        lower.finish()
        let base = try sandbox.lowerLayer(lower, name: "base", options: Self.rootOptions())
        var tar = TarBuilder()
        tar.file("lib/x86_64-linux-gnu/libfoo.so", Array("foo".utf8))
        tar.finish()
        _ = try sandbox.unpack(try sandbox.layer(tar), lowers: .directories([base]), options: Self.rootOptions())
        let merged = sandbox.base + "/merged"
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: false)
        let mount = try OverlayCommitTests.Mount(lower: [sandbox.root, base], on: merged)
        defer { withExtendedLifetime(mount) {} }
        var info = stat()
        #expect(lstat(merged + "/lib", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        #expect(try String(contentsOfFile: merged + "/lib/x86_64-linux-gnu/libfoo.so", encoding: .utf8) == "foo")
        #expect(try String(contentsOfFile: merged + "/lib/x86_64-linux-gnu/libc.so.6", encoding: .utf8) == "libc")
    }

    /// Item 13: `.wh.a` then a new `a/` in one layer: the lower `a/b/c/bar` must not show
    /// through the new directory (it did: the directory was not opaque).
    @Test(.enabled(if: Requirement.root() && (OverlayCommitTests.overlayAvailable || Requirement.onCI), "needs root and overlayfs"),
          arguments: ["whiteout-first", "directory-first", "implicit-parent"])
    func recreatedDirectoryHidesTheLowerContents(_ order: String) throws {
        try Requirement.require(root: true)
        let sandbox = try Sandbox()
        var lower = TarBuilder()
        lower.directory("a/")
        lower.directory("a/b/")
        lower.directory("a/b/c/")
        lower.file("a/b/c/bar", Array("old".utf8))
        lower.file("a/kept-before", Array("old".utf8))
        lower.finish()
        let base = try sandbox.lowerLayer(lower, name: "base", options: Self.rootOptions())
        let tar = WhiteoutTests.recreatedDirectory(order)
        _ = try sandbox.unpack(try sandbox.layer(tar), lowers: .directories([base]), options: Self.rootOptions())
        let merged = sandbox.base + "/merged"
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: false)
        let mount = try OverlayCommitTests.Mount(lower: [sandbox.root, base], on: merged)
        defer { withExtendedLifetime(mount) {} }
        #expect(try FileManager.default.contentsOfDirectory(atPath: merged + "/a") == ["new"])
        #expect(!FileManager.default.fileExists(atPath: merged + "/a/b/c/bar"))
    }
}
