@testable import DevenvArchive
import DevenvTestSupport
import DevenvSystem
import DevenvOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Directory -> layer -> directory round trips, determinism, re-encoding and export.
@Suite struct RoundTripTests {
    /// A tree with every kind of node devenv stores. As root it adds ownership, devices and a
    /// file capability.
    static func makeTree(_ path: String, root: Bool) throws {
        let manager = FileManager.default
        func write(_ relative: String, _ text: String, mode: mode_t = 0o644) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + relative))
            chmod(path + "/" + relative, mode)
        }
        for directory in ["bin", "etc/conf.d", "readonly", "shared", "tmp", "deep/" + String(repeating: "n", count: 150) + "/more"] {
            try manager.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true)
        }
        try write("etc/hostname", "devenv\n")
        try write("etc/conf.d/empty", "")
        try write("bin/tool", "#!/bin/sh\necho hi\n", mode: 0o755)
        try write("bin/suid", "suid", mode: 0o4755)
        try write("bin/sgid", "sgid", mode: 0o2711)
        try write("private", "secret", mode: 0o600)
        try write("readonly/inside", "ro", mode: 0o444)
        try write("deep/" + String(repeating: "n", count: 150) + "/more/leaf", "long path")
        let big = FileHandle(forReadingAtPath: "/dev/urandom")!.readData(ofLength: 3 << 20)
        try big.write(to: URL(fileURLWithPath: path + "/big.bin"))
        try Data("é".utf8).write(to: URL(fileURLWithPath: path + "/caf\u{e9}"))
        let raw = withCString(Array(path.utf8) + [0x2f, 0xff, 0xfe]) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        close(raw)
        symlink("../etc/hostname", path + "/bin/relative")
        symlink("/etc/passwd", path + "/absolute")
        symlink("nowhere", path + "/dangling")
        link(path + "/bin/tool", path + "/bin/tool-hardlink")
        link(path + "/bin/tool", path + "/etc/tool-third-name")
        link(path + "/absolute", path + "/absolute-hardlink")
        mkfifo(path + "/tmp/fifo", 0o620)
        try WhiteoutTests.setXattr(path + "/etc/hostname", "user.k", "v")
        try WhiteoutTests.setXattr(path + "/etc", "user.dir", "attr")
        if root {
            chown(path + "/private", 1234, 5678)
            lchown(path + "/dangling", 42, 43)
            mknod(path + "/tmp/null", S_IFCHR | 0o666, DeviceNumber.make(major: 1, minor: 3))
            mknod(path + "/tmp/loop", S_IFBLK | 0o600, DeviceNumber.make(major: 7, minor: 0))
            let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            let fd = open(path + "/bin/tool", O_RDONLY)
            #expect(XattrIO.set(.descriptor(fd), name: Array("security.capability".utf8), value: capability) == 0)
            close(fd)
        }
        chmod(path + "/readonly", 0o555)
        chmod(path + "/shared", 0o2775)
        chmod(path + "/tmp", 0o1777)
        // mtimes last, directories after their contents, symlinks without following.
        var stamp = 1_600_000_000
        for relative in (manager.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted().reversed() {
            stamp += 7
            let times = [timespec(tv_sec: stamp, tv_nsec: 0), timespec(tv_sec: stamp, tv_nsec: 0)]
            utimensat(AT_FDCWD, path + "/" + relative, times, AT_SYMLINK_NOFOLLOW)
        }
    }

    @Test(arguments: LayerCompression.allCases)
    func directoryToLayerToDirectoryIsIdentical(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        let source = sandbox.base + "/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try Self.makeTree(source, root: Requirement.isRoot)
        var options = LayerWriteOptions()
        options.compression = compression
        let blob = try LayerWriter.write(directory: source, to: sandbox.base + "/layer", options: options)
        #expect(blob.compression == compression)
        #expect(blob.mediaType == MediaType.layer(compression))
        #expect(blob.size == Int64(try FileManager.default.attributesOfItem(atPath: sandbox.base + "/layer")[.size] as! UInt64))
        #expect(Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: sandbox.base + "/layer"))) == blob.digest)

        var unpack = UnpackOptions()
        unpack.overlayXattrPrefix = "user.overlay."
        let report = try LayerUnpacker.unpack(layerAt: sandbox.base + "/layer", declared: compression, into: sandbox.root, options: unpack)
        #expect(report.diffID == blob.diffID)
        #expect(report.uncompressedBytes == blob.uncompressedSize)
        var compare = TreeManifest.Options()
        compare.ownership = Requirement.isRoot
        compare.allXattrs = Requirement.isRoot
        var expected = try TreeManifest(source, options: compare)
        // Layers carry device nodes; unpack never creates them (docs/layers.md).
        expected.records = expected.records.filter { $0.value.type != S_IFCHR && $0.value.type != S_IFBLK }
        let actual = try TreeManifest(sandbox.root, options: compare)
        #expect(expected.differences(actual) == [])
        #expect(expected.records.count > 25)
    }

    @Test func sameTreeGivesTheSameDigest() throws {
        let sandbox = try Sandbox()
        let source = sandbox.base + "/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try Self.makeTree(source, root: Requirement.isRoot)
        for compression in LayerCompression.allCases {
            var options = LayerWriteOptions()
            options.compression = compression
            let first = try LayerWriter.write(directory: source, to: sandbox.base + "/one", options: options)
            options.zstdWorkers = 1
            let second = try LayerWriter.write(directory: source, to: sandbox.base + "/two", options: options)
            #expect(first == second, "\(compression)")
        }
    }

    /// Two trees with the same content, created in a different order and at different times.
    @Test func clampedMTimesMakeDifferentlyTimedTreesIdentical() throws {
        let sandbox = try Sandbox()
        var digests: [Digest] = []
        var unclamped: [Digest] = []
        for (index, order) in [["a", "b/c", "b/d"], ["b/d", "b/c", "a"]].enumerated() {
            let tree = sandbox.base + "/tree\(index)"
            try FileManager.default.createDirectory(atPath: tree + "/b", withIntermediateDirectories: true)
            for name in order { try Data(name.utf8).write(to: URL(fileURLWithPath: tree + "/" + name)) }
            for name in order + ["b"] {
                let stamp = timespec(tv_sec: 1_700_000_000 + index * 1000, tv_nsec: 0)
                utimensat(AT_FDCWD, tree + "/" + name, [stamp, stamp], 0)
            }
            var options = LayerWriteOptions()
            unclamped.append(try LayerWriter.write(directory: tree, to: tree + ".raw", options: options).digest)
            options.clampMTime = 1_000_000_000
            digests.append(try LayerWriter.write(directory: tree, to: tree + ".tar.zst", options: options).digest)
        }
        #expect(digests[0] == digests[1])
        #expect(unclamped[0] != unclamped[1])
    }

    @Test func writingAMissingDirectoryFailsClearly() throws {
        let sandbox = try Sandbox()
        do {
            _ = try LayerWriter.write(directory: sandbox.base + "/missing", to: sandbox.base + "/out")
            Issue.record("no error")
        } catch let error as ArchiveError {
            #expect(error.stage == .create)
            #expect(error.errno == ENOENT)
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/out"))
    }

    @Test func socketsAreSkippedWithAWarning() throws {
        let sandbox = try Sandbox()
        try Data("x".utf8).write(to: URL(fileURLWithPath: sandbox.root + "/file"))
        let socketPath = sandbox.root + "/sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in socketPath.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let blob = try LayerWriter.write(directory: sandbox.root, to: sandbox.base + "/out.tar")
        #expect(blob.warnings.count == 1 && blob.warnings[0].contains("sock"))
        #expect(try WhiteoutTests.entries(ofLayer: sandbox.base + "/out.tar").map { String(decoding: $0.path, as: UTF8.self) } == ["file"])
    }

    // MARK: recompress and export

    @Test(arguments: [(LayerCompression.gzip, LayerCompression.zstd), (.none, .gzip), (.zstd, .none)])
    func recompressKeepsTheUncompressedBytes(_ from: LayerCompression, _ to: LayerCompression) throws {
        let sandbox = try Sandbox()
        let tar = StreamFormatTests.sampleTar()
        let input = try sandbox.layer(tar, from, name: "input")
        let blob = try LayerWriter.recompress(tarAt: input, to: sandbox.base + "/output", compression: to)
        #expect(blob.diffID == Digest.sha256(tar.bytes))
        #expect(blob.compression == to)
        let report = try sandbox.unpack(sandbox.base + "/output", declared: to)
        #expect(report.diffID == blob.diffID)
        #expect(sandbox.contents("etc/hostname") == "devenv\n")
    }

    @Test(arguments: [LayerCompression.none, .gzip])
    func recompressRejectsGarbage(_ wrapping: LayerCompression) throws {
        let sandbox = try Sandbox()
        let garbage = [UInt8](repeating: 0x47, count: 4096)
        let input = try sandbox.layer(garbage, wrapping, name: "garbage")
        do {
            _ = try LayerWriter.recompress(tarAt: input, to: sandbox.base + "/output", compression: .zstd)
            Issue.record("garbage was accepted as a tar")
        } catch let error as ArchiveError {
            #expect(error.stage == .recompress)
            #expect(error.kind == .unrecognizedFormat || error.kind == .corrupt)
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.base + "/output"))
    }

    @Test func copyUncompressedWritesTheOriginalTar() throws {
        let sandbox = try Sandbox()
        var tar = StreamFormatTests.sampleTar()
        tar.appendRaw([UInt8](repeating: 0, count: 4096))   // padding after the end blocks is kept
        let layer = try sandbox.layer(tar, .zstd)
        let output = sandbox.base + "/export.tar"
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let diffID = try LayerReader.copyUncompressed(layerAt: layer, declared: .zstd, to: fd)
        close(fd)
        #expect(diffID == Digest.sha256(tar.bytes))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: output))) == tar.bytes)
    }
}
