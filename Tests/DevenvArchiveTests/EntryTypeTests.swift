@testable import DevenvArchive
import DevenvTestSupport
import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Entry types: devices and FIFOs, setuid bits and capabilities, type changes and
/// duplicates, hostile names, plus PAX global headers and unknown typeflags.
@Suite struct EntryTypeTests {
    static func type(_ info: stat?) -> mode_t? { info.map { $0.st_mode & S_IFMT } }

    // MARK: C4

    @Test func deviceNodesAreSkippedWithAWarning() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("dev/")
        tar.device("dev/mem", major: 1, minor: 1)
        tar.device("dev/sda", character: false, major: 8, minor: 0)
        tar.fifo("run/fifo")
        tar.finish()
        let report = try sandbox.unpack(try sandbox.layer(tar))
        #expect(!sandbox.exists("dev/mem"))
        #expect(!sandbox.exists("dev/sda"))
        #expect(report.warnings.count == 2)
        #expect(report.warnings.first?.contains("dev/mem") == true)
        #expect(report.warnings.last?.contains("'dev/sda': block device 8:0 skipped") == true)
        #expect(Self.type(sandbox.lstatInRoot("run/fifo")) == S_IFIFO)
    }

    /// Issue 11 item 2: as root, a layer's mode-0666 block device used to become a real node
    /// in the snapshot, a host file that opens the host's disk for whoever reaches it (and for
    /// `nobody` in a container). Snapshots never hold device nodes, whoever unpacks, and
    /// whatever the numbers (allowlisted-looking character devices included).
    @Test(.enabled(if: Requirement.root(), "needs root, where mknod would succeed"))
    func deviceNodesAreNeverCreatedEvenAsRoot() throws {
        try Requirement.require(root: true)
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.device("dev/loop1", character: false, major: 7, minor: 1, mode: 0o666)
        tar.device("tmp/disk", character: false, major: 8, minor: 0, mode: 0o666)
        tar.device("dev/mem", major: 1, minor: 1, mode: 0o666)
        tar.device("dev/null", major: 1, minor: 3, mode: 0o666)
        tar.finish()
        var options = UnpackOptions()
        options.preserveOwnership = true
        let report = try LayerUnpacker.unpack(layerAt: try sandbox.layer(tar), declared: nil, into: sandbox.root, options: options)
        for path in ["dev/loop1", "tmp/disk", "dev/mem", "dev/null"] {
            #expect(!sandbox.exists(path), "\(path) was created")
            #expect(report.warnings.contains { $0.hasPrefix("'\(path)'") && $0.contains("skipped") }, "no warning names \(path)")
        }
    }

    @Test func outOfRangeDeviceNumbersAreRefused() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.device("dev/x", major: 0, minor: 0, pax: ["SCHILY.devmajor": Array("1099511627776".utf8), "SCHILY.devminor": Array("1".utf8)])
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .forbiddenEntry)
        #expect(error?.description.contains("out of range") == true)
    }

    // C4: a 0:0 character device would act as a whiteout in a lower dir.
    @Test func zeroZeroCharacterDeviceIsRefused() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.device("etc/passwd", major: 0, minor: 0)
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar))
        #expect(error?.kind == .forbiddenEntry)
        #expect(error?.description.contains("whiteout") == true)
        #expect(!sandbox.exists("etc/passwd"))
    }

    // MARK: C5

    @Test func specialModeBitsArePreserved() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("usr/bin/")
        tar.file("usr/bin/rootsh", Array("#!/bin/sh\n".utf8), mode: 0o4755)
        tar.file("usr/bin/groupsh", Array("#!/bin/sh\n".utf8), mode: 0o2755)
        tar.directory("shared/", mode: 0o2775)
        tar.directory("tmp/", mode: 0o1777)
        tar.file("private", mode: 0o600)
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.lstatInRoot("usr/bin/rootsh")?.st_mode == S_IFREG | 0o4755)
        #expect(sandbox.lstatInRoot("usr/bin/groupsh")?.st_mode == S_IFREG | 0o2755)
        #expect(sandbox.lstatInRoot("shared")?.st_mode == S_IFDIR | 0o2775)
        #expect(sandbox.lstatInRoot("tmp")?.st_mode == S_IFDIR | 0o1777)
        #expect(sandbox.lstatInRoot("private")?.st_mode == S_IFREG | 0o600)
    }

    @Test(.enabled(if: Requirement.root(), "needs root to chown and set security.capability"))
    func ownershipAndFileCapabilitiesArePreservedAsRoot() throws {
        try Requirement.require(root: true)
        let sandbox = try Sandbox()
        // struct vfs_cap_data v2: magic|effective, permitted = CAP_SETUID (7), inheritable 0.
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        var tar = TarBuilder()
        tar.file("usr/bin/rootsh", Array("sh".utf8), mode: 0o4755, uid: 0, gid: 0)
        tar.file("usr/bin/capbin", Array("cap".utf8), mode: 0o755, uid: 1234, gid: 5678,
                 pax: ["SCHILY.xattr.security.capability": capability])
        tar.file("home/user/file", mode: 0o640, uid: 1000, gid: 1000)
        tar.finish()
        var options = Sandbox.userOptions
        options.preserveOwnership = true
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar), options: options) == nil)
        let capbin = try #require(sandbox.lstatInRoot("usr/bin/capbin"))
        #expect(capbin.st_uid == 1234 && capbin.st_gid == 5678)
        #expect(sandbox.lstatInRoot("usr/bin/rootsh")?.st_mode == S_IFREG | 0o4755)
        #expect(sandbox.lstatInRoot("home/user/file").map { ($0.st_uid, $0.st_gid) } ?? (0, 0) == (1000, 1000))
        let fd = open(sandbox.root + "/usr/bin/capbin", O_RDONLY)
        defer { close(fd) }
        #expect(try XattrIO.value(.descriptor(fd), name: Array("security.capability".utf8)) == capability)
    }

    @Test func uidOutOfRangeIsRefused() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("f", pax: ["uid": Array("4294967295".utf8)])
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar))?.kind == .forbiddenEntry)
    }

    // MARK: C6

    @Test func fileThenSymlinkAtTheSamePath() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("target.txt", Array("target".utf8))
        tar.file("path", Array("file".utf8))
        tar.symlink("path", to: "target.txt")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(Self.type(sandbox.lstatInRoot("path")) == S_IFLNK)
        #expect(sandbox.contents("path") == "target")
    }

    @Test func symlinkThenDirectoryAtTheSamePath() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("elsewhere/")
        tar.symlink("path", to: "elsewhere")
        tar.directory("path/")
        tar.file("path/inside", Array("x".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(Self.type(sandbox.lstatInRoot("path")) == S_IFDIR)
        #expect(sandbox.contents("path/inside") == "x")
        #expect(!sandbox.exists("elsewhere/inside"))
    }

    @Test(arguments: [3, 150])
    func nonEmptyDirectoryReplacedByAFileRemovesTheSubtree(_ depth: Int) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        var path = "d"
        tar.directory("d/")
        for level in 0..<depth {
            tar.file("\(path)/file\(level)", Array("x".utf8))
            tar.symlink("\(path)/up\(level)", to: "../../../victim")
            path += "/n"
            tar.directory(path + "/", mode: 0o555)
        }
        tar.file("d", Array("now a file".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(Self.type(sandbox.lstatInRoot("d")) == S_IFREG)
        #expect(sandbox.contents("d") == "now a file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root) == ["d"])
    }

    @Test func duplicateSymlinksLastWins() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.symlink("link", to: "first")
        tar.symlink("link", to: "second")
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.root + "/link") == "second")
    }

    @Test func directoryOverDirectoryMergesAndTakesTheLastMetadata() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("d/", mode: 0o700, mtime: 1_000_000_000, pax: ["SCHILY.xattr.user.first": Array("1".utf8)])
        tar.file("d/keep", Array("kept".utf8))
        tar.directory("d/", mode: 0o751, mtime: 1_100_000_000, pax: ["SCHILY.xattr.user.second": Array("2".utf8)])
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let info = try #require(sandbox.lstatInRoot("d"))
        #expect(info.st_mode & 0o7777 == 0o751)
        #expect(info.st_mtim.tv_sec == 1_100_000_000)
        #expect(sandbox.contents("d/keep") == "kept")
        #expect(try TreeManifest.xattrs(sandbox.root + "/d") == ["user.first=1", "user.second=2"])
    }

    @Test func directoryMTimesAreSetAfterTheirContents() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("d/", mode: 0o555, mtime: 1_000_000_000)
        tar.file("d/a", Array("a".utf8), mtime: 1_200_000_000)
        tar.directory("d/sub/", mtime: 1_000_000_001)
        tar.file("d/sub/b", Array("b".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.lstatInRoot("d")?.st_mtim.tv_sec == 1_000_000_000)
        #expect(sandbox.lstatInRoot("d")?.st_mode == S_IFDIR | 0o555)
        #expect(sandbox.lstatInRoot("d/sub")?.st_mtim.tv_sec == 1_000_000_001)
        #expect(sandbox.lstatInRoot("d/a")?.st_mtim.tv_sec == 1_200_000_000)
    }

    @Test func sparseFilesKeepTheirHoles() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        let pax: [String: [UInt8]] = [
            "GNU.sparse.major": Array("0".utf8), "GNU.sparse.minor": Array("1".utf8),
            "GNU.sparse.name": Array("sparse".utf8), "GNU.sparse.realsize": Array("8389120".utf8),
            "GNU.sparse.numblocks": Array("2".utf8), "GNU.sparse.map": Array("0,512,8388608,512".utf8),
            "GNU.sparse.size": Array("8389120".utf8),
        ]
        tar.file("sparse", [UInt8](repeating: 0x61, count: 512) + [UInt8](repeating: 0x7a, count: 512), pax: pax)
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let info = try #require(sandbox.lstatInRoot("sparse"))
        #expect(info.st_size == 8_389_120)
        #expect(info.st_blocks * 512 < 1 << 20)   // the 8 MiB gap is a hole, not written zeros
        let data = try #require(FileManager.default.contents(atPath: sandbox.root + "/sparse"))
        #expect(data.prefix(512).allSatisfy { $0 == 0x61 })
        #expect(data[512..<8_388_608].allSatisfy { $0 == 0 })
        #expect(data.suffix(512).allSatisfy { $0 == 0x7a })
    }

    @Test func rootEntrySetsTheRootsMetadataButCannotChangeItsType() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.directory("./", mode: 0o751, mtime: 1_234_567_890)
        tar.file("./file", Array("x".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        var info = stat()
        #expect(lstat(sandbox.root, &info) == 0 && info.st_mode & 0o7777 == 0o751 && info.st_mtim.tv_sec == 1_234_567_890)

        let other = try Sandbox()
        var replace = TarBuilder()
        replace.symlink("./", to: "/etc")
        replace.finish()
        #expect(try other.unpackConfined(try other.layer(replace))?.kind == .forbiddenEntry)
    }

    // MARK: C7

    /// Opens `components` one at a time below the root (for paths longer than PATH_MAX).
    static func readDeep(_ root: String, _ components: [[UInt8]]) -> String? {
        var fd = open(root, O_RDONLY | O_DIRECTORY)
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            let next = withCString(component) { openat(fd, $0, (last ? O_RDONLY : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW) }
            close(fd)
            guard next >= 0 else { return nil }
            fd = next
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
    }

    @Test func pathsLongerThanPathMaxViaPax() throws {
        let sandbox = try Sandbox()
        let component = String(repeating: "c", count: 200)
        var tar = TarBuilder()
        var path = ""
        for level in 0..<22 {
            path += (level == 0 ? "" : "/") + component
            tar.directory(path + "/")
        }
        tar.file(path + "/leaf", Array("deep".utf8))
        tar.finish()
        #expect(path.utf8.count > 4096)
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let components = Array(repeating: Array(component.utf8), count: 22) + [Array("leaf".utf8)]
        #expect(Self.readDeep(sandbox.root, components) == "deep")
    }

    @Test func twoThousandNestedDirectoriesWithoutDirectoryEntries() throws {
        let sandbox = try Sandbox()
        let depth = 2100
        var tar = TarBuilder()
        tar.file(Array(repeating: "d", count: depth).joined(separator: "/") + "/leaf", Array("bottom".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let components = Array(repeating: [UInt8(ascii: "d")], count: depth) + [Array("leaf".utf8)]
        #expect(Self.readDeep(sandbox.root, components) == "bottom")
    }

    @Test func componentLengthLimits() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file(String(repeating: "a", count: 255), Array("ok".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(sandbox.contents(String(repeating: "a", count: 255)) == "ok")

        let other = try Sandbox()
        var long = TarBuilder()
        long.file(String(repeating: "b", count: 256), Array("too long".utf8))
        long.finish()
        let error = try other.unpackConfined(try other.layer(long))
        #expect(error?.errno == ENAMETOOLONG)
    }

    @Test func namesAreKeptAsExactBytes() throws {
        let sandbox = try Sandbox()
        let names: [[UInt8]] = [[0xff, 0xfe], Array("tab\there".utf8), Array("new\nline".utf8), Array("-rf".utf8),
                                Array("\u{1b}]0;pwned\u{07}\u{1b}[2J".utf8), Array("café".utf8)]
        var tar = TarBuilder()
        for name in names { tar.file(bytes: name, Array("x".utf8)) }
        tar.file(bytes: Array(repeating: 0xe9, count: 120) + Array("/inner".utf8), Array("y".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        let root = open(sandbox.root, O_RDONLY | O_DIRECTORY)
        defer { close(root) }
        let listed = Set(try TreeWalker.list(root).map(\.name))
        #expect(listed == Set(names + [Array(repeating: 0xe9, count: 120)]))
    }

    @Test func untrustedNamesAreEscapedInErrors() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("\u{1b}]0;pwned\u{07}\u{1b}[2J/../../x", Array("x".utf8))
        tar.finish()
        let error = try #require(try sandbox.unpackConfined(try sandbox.layer(tar)))
        #expect(error.kind == .escapesRoot)
        #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 })
        #expect(error.description.contains("\\x1b]0;pwned\\x07"))
    }

    @Test func paxGlobalHeaderIsIgnored() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.global(["path": Array("../../evil".utf8), "comment": Array("global".utf8)])
        tar.file("ordinary", Array("x".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root) == ["ordinary"])
    }

    // Policy: unknown typeflags are regular files (POSIX; libarchive and GNU tar agree).
    @Test func unknownTypeflagIsExtractedAsARegularFile() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.append(.init(name: Array("zfile".utf8), type: TarBuilder.TypeFlag.unknownZ.rawValue, size: 4), data: Array("data".utf8))
        tar.finish()
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar)) == nil)
        #expect(Self.type(sandbox.lstatInRoot("zfile")) == S_IFREG)
        #expect(sandbox.contents("zfile") == "data")
    }
}
