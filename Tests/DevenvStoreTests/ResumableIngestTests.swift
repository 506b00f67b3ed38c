import DevenvOCI
@testable import DevenvStore
import Foundation
import Testing

/// The digest-keyed ingest: partial data outlives its writer and is continued by the next.
@Suite struct ResumableIngestTests {
    static let data = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    static var digest: Digest { Digest.sha256(data) }

    @Test func aDroppedWriterKeepsItsPartialAndTheNextOneContinuesIt() throws {
        let fixture = try StoreFixture()
        let content = fixture.store.content
        do {
            let first = try #require(try content.resumableWriter(for: Self.digest, size: Int64(Self.data.count)))
            #expect(first.resumedFrom == 0)
            try first.write(Self.data.prefix(100_000))
        }
        #expect(FileManager.default.fileExists(atPath: content.ingestPath(for: Self.digest)))
        #expect(!content.contains(Self.digest))
        let second = try #require(try content.resumableWriter(for: Self.digest, size: Int64(Self.data.count)))
        #expect(second.resumedFrom == 100_000)
        try second.write(Self.data.suffix(from: 100_000))
        try second.commit(expected: Self.digest, size: Int64(Self.data.count), context: "test")
        #expect(try content.read(Self.digest, limit: 1 << 20) == Self.data)
        #expect(!FileManager.default.fileExists(atPath: content.ingestPath(for: Self.digest)))
        // Once stored, a later writer for the digest is not needed.
        #expect(try content.resumableWriter(for: Self.digest, size: Int64(Self.data.count)) == nil)
    }

    @Test func aPartialLongerThanTheBlobStartsOver() throws {
        let fixture = try StoreFixture()
        let content = fixture.store.content
        try Data(count: 400_000).write(to: URL(fileURLWithPath: content.ingestPath(for: Self.digest)))
        let writer = try #require(try content.resumableWriter(for: Self.digest, size: Int64(Self.data.count)))
        #expect(writer.resumedFrom == 0)
        #expect(writer.bytesWritten == 0)
        try writer.write(Self.data)
        try writer.commit(expected: Self.digest, size: Int64(Self.data.count), context: "test")
        #expect(content.contains(Self.digest))
    }
}
