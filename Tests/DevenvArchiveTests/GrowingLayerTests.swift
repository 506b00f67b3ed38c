@testable import DevenvArchive
import DevenvOCI
import DevenvSystem
import Foundation
import Testing

/// Unpacking a layer while its blob is still being written (a download in progress): the
/// unpacker follows the file, and stops with an error when the writer abandons it.
@Suite struct GrowingLayerTests {
    static func sampleTar() -> TarBuilder {
        var tar = TarBuilder()
        tar.directory("usr/")
        for index in 0..<40 {
            tar.file("usr/file-\(index)", [UInt8](repeating: UInt8(index), count: 9_000 + index))
        }
        tar.symlink("usr/link", to: "file-1")
        tar.finish()
        return tar
    }

    /// Appends `bytes` to `path` in small pieces from another thread, publishing each one,
    /// then ends the file with `end`.
    static func feed(_ bytes: [UInt8], to growing: GrowingFile, until cut: Int? = nil, end: GrowingFile.End) -> Thread {
        let thread = Thread {
            guard let handle = FileHandle(forWritingAtPath: growing.path) else { return growing.finish(.abandoned("open failed")) }
            let stop = cut ?? bytes.count
            var offset = 0
            while offset < stop {
                let next = min(stop, offset + 997)
                handle.write(Data(bytes[offset..<next]))
                offset = next
                growing.published(length: Int64(offset))
                usleep(200)
            }
            try? handle.close()
            growing.finish(end)
        }
        thread.start()
        return thread
    }

    @Test(arguments: [LayerCompression.gzip, .zstd])
    func aLayerIsUnpackedWhileItIsWritten(_ compression: LayerCompression) throws {
        let sandbox = try Sandbox()
        let tar = Self.sampleTar()
        let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(tar, compression))))
        let growing = GrowingFile(path: sandbox.base + "/ingest")
        FileManager.default.createFile(atPath: growing.path, contents: nil)
        _ = Self.feed(blob, to: growing, end: .complete)
        let report = try LayerUnpacker.unpack(growing: growing, declared: compression, into: sandbox.root, options: Sandbox.userOptions)
        #expect(report.diffID == Digest.sha256(tar.bytes))
        #expect(report.entries == 42)
        #expect(sandbox.contents("usr/file-39")?.utf8.count == 9_039)
    }

    @Test func anAbandonedDownloadStopsTheUnpackWithAnError() throws {
        let sandbox = try Sandbox()
        let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try sandbox.layer(Self.sampleTar(), .gzip))))
        let growing = GrowingFile(path: sandbox.base + "/ingest")
        FileManager.default.createFile(atPath: growing.path, contents: nil)
        _ = Self.feed(blob, to: growing, until: blob.count / 2, end: .abandoned("the download stopped"))
        #expect(performing: {
            _ = try LayerUnpacker.unpack(growing: growing, declared: .gzip, into: sandbox.root, options: Sandbox.userOptions)
        }, throws: { error in
            "\(error)".contains("the download stopped")
        })
    }
}
