@testable import DevenvArchive
import DevenvOCI
import Foundation
import Testing

/// Compression sniffing (A7), decoder edge cases (B2) and limits (B1).
@Suite struct StreamFormatTests {
    static func sampleTar() -> TarBuilder {
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.file("etc/hostname", Array("devenv\n".utf8))
        tar.file("etc/big", [UInt8](repeating: 0x61, count: 70_000))
        tar.finish()
        return tar
    }

    @Test(arguments: LayerCompression.allCases)
    func sniffsEachCompressionAndHashesTheUncompressedStream(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        let tar = Self.sampleTar()
        let report = try sandbox.unpack(try sandbox.layer(tar, compression), declared: compression)
        #expect(report.compression == compression)
        #expect(report.diffID == Digest.sha256(tar.bytes))
        #expect(report.uncompressedBytes == Int64(tar.bytes.count))
        #expect(report.entries == 3)
        #expect(sandbox.contents("etc/hostname") == "devenv\n")
    }

    @Test(arguments: [(LayerCompression.gzip, LayerCompression.zstd), (.gzip, .none), (.zstd, .gzip), (.none, .gzip)])
    func declaredCompressionThatDisagreesIsRejected(_ declared: LayerCompression, _ actual: LayerCompression) throws {
        let sandbox = try Sandbox()
        let layer = try sandbox.layer(Self.sampleTar(), actual)
        let error = try sandbox.unpackConfinedDeclared(layer, declared: declared)
        #expect(error?.kind == .compressionMismatch(declared: declared, actual: actual))
        #expect(error?.description.contains("declared compression \(declared.rawValue)") == true)
        #expect(!sandbox.exists("etc"))
    }

    @Test func randomBytesAreRejectedCleanly() throws {
        let sandbox = try Sandbox()
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 1...255, using: &generator) }
        let layer = try sandbox.layer(noise, .none)
        let error = try sandbox.unpackConfined(layer)
        #expect(error?.kind == .unrecognizedFormat)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root).isEmpty)
    }

    @Test func emptyBlobIsRejected() throws {
        let sandbox = try Sandbox()
        #expect(try sandbox.unpackConfined(try sandbox.layer([], .none))?.kind == .unrecognizedFormat)
    }

    @Test func gzipOfGarbageIsRejected() throws {
        let sandbox = try Sandbox()
        let layer = try sandbox.layer([UInt8](repeating: 0x41, count: 2048), .gzip)
        let error = try sandbox.unpackConfined(layer)
        #expect(error?.kind == .corrupt)
        #expect(error?.description.contains("tar") == true)
    }

    // B2a
    @Test(arguments: [LayerCompression.gzip, .zstd])
    func truncatedCompressedStreamIsAnError(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        let full = try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(Self.sampleTar(), compression)))
        let layer = try sandbox.layer(Array(full.prefix(full.count / 2)), .none, name: "cut")
        let error = try sandbox.unpackConfined(layer)
        #expect(error?.kind == .truncated)
        #expect(error?.description.contains("truncated") == true)
    }

    // B2b
    @Test(arguments: [LayerCompression.gzip, .zstd])
    func nulPaddingAfterTheLastMemberIsAccepted(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        let tar = Self.sampleTar()
        let full = try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(tar, compression)))
        let layer = try sandbox.layer(Array(full) + [UInt8](repeating: 0, count: 1024), .none, name: "padded")
        let report = try sandbox.unpack(layer, declared: compression)
        #expect(report.diffID == Digest.sha256(tar.bytes))
    }

    @Test func nonNulGarbageAfterGzipIsRejected() throws {
        let sandbox = try Sandbox()
        let full = try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(Self.sampleTar(), .gzip)))
        let layer = try sandbox.layer(Array(full) + Array("trailing garbage".utf8), .none, name: "garbage")
        let error = try sandbox.unpackConfined(layer)
        #expect(error?.kind == .corrupt)
        #expect(error?.description.contains("member 2") == true)
    }

    // B2c
    @Test(arguments: [LayerCompression.gzip, .zstd])
    func concatenatedMembersAreAllDecoded(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        let tar = Self.sampleTar().bytes
        let split = 1024 + 512   // inside the second file's data
        let first = try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(Array(tar[..<split]), compression, name: "a")))
        let second = try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(Array(tar[split...]), compression, name: "b")))
        let layer = try sandbox.layer(Array(first) + Array(second), .none, name: "joined")
        let report = try sandbox.unpack(layer, declared: compression)
        #expect(report.diffID == Digest.sha256(tar))
        #expect(sandbox.lstatInRoot("etc/big")?.st_size == 70_000)
    }

    // B2d
    @Test func entrySizeBeyondTheDataIsTruncation() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.append(.init(name: Array("short".utf8), size: 10_000), data: [UInt8](repeating: 0x62, count: 600))
        let error = try sandbox.unpackConfined(try sandbox.layer(tar, .gzip))
        #expect(error?.kind == .truncated)
        #expect(error?.entry == Array("short".utf8))
    }

    // B2e: policy -- a stream that ends cleanly at an entry boundary without the two zero
    // blocks is accepted (GNU tar and Go do the same); every entry is complete.
    @Test func missingEndOfArchiveBlocksIsAccepted() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("a", Array("A".utf8))
        tar.file("b", Array("B".utf8))
        let report = try sandbox.unpack(try sandbox.layer(tar, .gzip))
        #expect(report.entries == 2)
        #expect(sandbox.contents("b") == "B")
    }

    // B2f
    @Test func hugeBase256SizeIsAnError() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        var size = [UInt8](repeating: 0, count: 12)
        size[0] = 0x80
        size[4] = 0x40   // 2^62 in big-endian base-256
        tar.append(.init(name: Array("huge".utf8), rawSize: size), data: [UInt8](repeating: 1, count: 512))
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar, .gzip))
        #expect(error != nil)
        #expect(error?.kind == .limitExceeded || error?.kind == .truncated || error?.kind == .corrupt)
    }

    // B1a, B1b: small caps keep the test fast.
    @Test(arguments: [LayerCompression.gzip, .zstd])
    func compressionBombHitsTheByteCap(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        tar.file("zeros", [UInt8](repeating: 0, count: 8 << 20))
        tar.finish()
        var options = Sandbox.userOptions
        options.maxUncompressedBytes = 1 << 20
        let error = try sandbox.unpackConfined(try sandbox.layer(tar, compression), options: options)
        #expect(error?.kind == .limitExceeded)
        #expect(error?.description.contains("limit") == true)
    }

    @Test(arguments: [LayerCompression.gzip, .zstd])
    func manyFilesHitTheStreamCap(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        for index in 0..<8 { tar.file("zeros\(index)", [UInt8](repeating: 0, count: 512 << 10)) }
        tar.finish()
        var options = Sandbox.userOptions
        options.maxUncompressedBytes = 1 << 20
        let error = try sandbox.unpackConfined(try sandbox.layer(tar, compression), options: options)
        #expect(error?.kind == .limitExceeded)
        #expect(error?.description.contains("uncompressed layer exceeds") == true)
    }

    // B1c: a frame header asking for a 2 GiB window (windowLog 31).
    @Test func zstdWindowAboveTheDefaultLimitIsRefused() throws {
        let sandbox = try Sandbox()
        let frame: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00]
        let error = try sandbox.unpackConfined(try sandbox.layer(frame, .none, name: "window"))
        #expect(error?.kind == .limitExceeded)
        #expect(error?.description.contains("window") == true)
    }

    // B1d
    @Test func entryCountCap() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        for index in 0..<50 { tar.file("f\(index)") }
        tar.finish()
        var options = Sandbox.userOptions
        options.maxEntries = 20
        #expect(try sandbox.unpackConfined(try sandbox.layer(tar, .gzip), options: options)?.kind == .limitExceeded)
    }

    // B1e: a PAX sparse entry claiming an 8 EiB real size.
    @Test func sparseEntryWithAHugeRealSizeIsRefused() throws {
        let sandbox = try Sandbox()
        var tar = TarBuilder()
        let pax: [String: [UInt8]] = [
            "GNU.sparse.major": Array("0".utf8), "GNU.sparse.minor": Array("1".utf8),
            "GNU.sparse.name": Array("sparse".utf8), "GNU.sparse.realsize": Array("9223372036854775000".utf8),
            "GNU.sparse.map": Array("0,512".utf8), "GNU.sparse.numblocks": Array("1".utf8),
            "GNU.sparse.size": Array("9223372036854775000".utf8),
        ]
        tar.file("sparse", [UInt8](repeating: 0x73, count: 512), pax: pax)
        tar.finish()
        let error = try sandbox.unpackConfined(try sandbox.layer(tar, .gzip))
        #expect(error != nil)
        #expect(sandbox.lstatInRoot("sparse").map { $0.st_size < 1 << 40 } ?? true)
    }
}

extension Sandbox {
    func unpackConfinedDeclared(_ layer: String, declared: LayerCompression) throws -> ArchiveError? {
        let before = try outside()
        defer { #expect((try? outside()) == before) }
        do {
            _ = try unpack(layer, declared: declared)
            return nil
        } catch let error as ArchiveError {
            return error
        }
    }
}
