@testable import DevenvArchive
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Confinement: `..` and absolute names, writing through symlinks, and hardlink
/// escapes. Every case checks the canaries beside the root (Sandbox.unpackConfined).
@Suite struct PathConfinementTests {
    static let unique = UUID().uuidString

    static func hostInode(_ path: String) -> (dev_t, ino_t)? {
        var info = stat()
        return lstat(path, &info) == 0 ? (info.st_dev, info.st_ino) : nil
    }

    // C1: policy -- `..` that climbs above the root fails closed.
    @Test(arguments: ["../../etc/passwd", "foo/../../etc/pwned", "dir/../../../etc/pwned", "/../victim/slash-dotdot", "..",
                      "../pwned", "../dest-evil/secret"])
    func dotDotAboveTheRootIsRefused(_ name: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("dir/")
        tar.file(name, Array("pwned".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .escapesRoot)
        #expect(error?.entry == Array(name.utf8))
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/pwned"))
    }

    // C1: absolute names and `..` that stays inside are normalised below the root.
    @Test(arguments: [("safe/../pwned.txt", "pwned.txt"), ("/etc/x", "etc/x"), ("./a//b", "a/b"), ("/./abs//./c", "abs/c")])
    func namesAreNormalisedInsideTheRoot(_ name: String, _ expected: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file(name, Array("inside".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents(expected) == "inside")
    }

    // C2a: chroot semantics, the write lands in <root>/etc.
    @Test func absoluteSymlinkResolvesInsideTheRoot() throws {
        let sandbox = try Sandbox()
        let name = "unbroken-\(Self.unique)"
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.symlink("localetc", to: "/etc")
        tar.file("localetc/\(name)", Array("unbroken".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents("etc/\(name)") == "unbroken")
        #expect(!FileManager.default.fileExists(atPath: "/etc/\(name)"))
    }

    // C2b
    @Test func symlinkToSlashThenWriteBelowIt() throws {
        let sandbox = try Sandbox()
        let name = "x-\(Self.unique)"
        var tar = TarBuilder()
        tar.symlink("a", to: "/")
        tar.file("a/etc/\(name)", Array("x".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents("etc/\(name)") == "x")
        #expect(!FileManager.default.fileExists(atPath: "/etc/\(name)"))
    }

    // C2c: relative climbing symlink; `..` stops at the root like in a chroot.
    @Test(arguments: [true, false])
    func relativeClimbingSymlink(_ withEtc: Bool) throws {
        let sandbox = try Sandbox()
        let name = "x-\(Self.unique)"
        var tar = TarBuilder()
        if withEtc { tar.directory("etc/") }
        tar.symlink("localetc", to: "../../../../etc")
        tar.file("localetc/\(name)", Array("x".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        if withEtc {
            #expect(error == nil)
            #expect(sandbox.contents("etc/\(name)") == "x")
        } else {
            // A dangling symlink as a parent is an error, never followed outside.
            #expect(error?.errno == ENOENT)
            #expect(error?.description.contains("dangling symlink") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: "/etc/\(name)"))
    }

    // C2d
    @Test(arguments: [true, false])
    func symlinkInSubdirectoryPointingAtTheHostVictim(_ withVictimDir: Bool) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        if withVictimDir { tar.directory("victim/") }
        tar.directory("dir/")
        tar.symlink("dir/loophole", to: "../../victim")
        tar.file("dir/loophole/newdir/newfile", Array("new".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        if withVictimDir {
            #expect(error == nil)
            #expect(sandbox.contents("victim/newdir/newfile") == "new")
        } else {
            #expect(error != nil)
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/victim/newdir"))
    }

    // C2e: a file replaces the symlink; nothing is written through it.
    @Test func regularFileReplacesASymlinkInsteadOfFollowingIt() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.symlink("loophole-victim", to: "../victim")
        tar.file("loophole-victim", Array("replaced".utf8))
        tar.symlink("hello-link", to: "../victim/hello")
        tar.file("hello-link", Array("replaced too".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.lstatInRoot("loophole-victim").map { $0.st_mode & S_IFMT == S_IFREG } == true)
        #expect(sandbox.contents("hello-link") == "replaced too")
    }

    // C3a, C3d: absolute hardlink targets resolve in-root, never to a host inode.
    @Test(arguments: ["/etc/shadow", "/localetc/shadow", "etc/../etc/shadow"])
    func hardlinkTargetsResolveInsideTheRoot(_ target: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.file("etc/shadow", Array("in-root shadow".utf8), mode: 0o640)
        tar.symlink("localetc", to: "/etc")
        tar.hardlink("localpasswd", to: target)
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let link = try #require(sandbox.lstatInRoot("localpasswd"))
        let inRoot = try #require(sandbox.lstatInRoot("etc/shadow"))
        #expect(link.st_ino == inRoot.st_ino)
        if let host = Self.hostInode("/etc/shadow") {
            #expect(!(link.st_dev == host.0 && link.st_ino == host.1))
        }
    }

    @Test func hardlinkToAHostPathMissingInTheLayerIsAnError() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.hardlink("localpasswd", to: "/etc/shadow")
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .missingLinkTarget)
        #expect(!sandbox.exists("localpasswd"))
    }

    // C3b, C3c, C3e
    @Test(arguments: ["../victim/hello", "/../victim/hello", "../victim", "../../dest-evil/secret"])
    func hardlinkTargetsAboveTheRootAreRefused(_ target: String) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.hardlink("escape", to: target)
        tar.file("escape/file", Array("x".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .escapesRoot)
        #expect(error?.entry == Array("escape".utf8))
    }

    // C3e: directories cannot be hardlinked.
    @Test func hardlinkToADirectoryIsRefused() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("somedir/")
        tar.hardlink("dirlink", to: "somedir")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar))?.kind == .forbiddenEntry)
    }

    // C3f: a hardlink to a symlink links the symlink itself.
    @Test func hardlinkToASymlinkLinksTheSymlink() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.symlink("passwdlink", to: "/etc/passwd")
        tar.hardlink("localpasswd", to: "passwdlink")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let link = try #require(sandbox.lstatInRoot("localpasswd"))
        let symlink = try #require(sandbox.lstatInRoot("passwdlink"))
        #expect(link.st_mode & S_IFMT == S_IFLNK)
        #expect(link.st_ino == symlink.st_ino)
        #expect(link.st_nlink == 2)
    }

    // C3g
    @Test func hardlinkToALaterEntryIsAnError() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.hardlink("early", to: "later")
        tar.file("later", Array("x".utf8))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .missingLinkTarget)
        #expect(error?.description.contains("'later' does not exist") == true)
    }

    @Test func hardlinkOverAnExistingFileReplacesIt() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("a", Array("A".utf8))
        tar.file("b", Array("B".utf8))
        tar.hardlink("b", to: "a")
        tar.hardlink("b", to: "a")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents("b") == "A")
        #expect(sandbox.lstatInRoot("a")?.st_nlink == 2)
    }
}
