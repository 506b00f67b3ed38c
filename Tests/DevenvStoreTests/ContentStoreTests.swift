import DevenvOCI
@testable import DevenvStore
import Foundation
import Testing

@Suite struct ContentStoreTests {
    @Test func createsAnOCILayout() throws {
        let fixture = try StoreFixture()
        let layout = try String(contentsOfFile: "\(fixture.root)/oci-layout", encoding: .utf8)
        #expect(layout.contains("\"imageLayoutVersion\":\"1.0.0\""))
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/index.json"))
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.root)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func relativeRootsBecomeAbsolute() throws {
        let layout = try StoreLayout(root: "relative/store/")
        #expect(layout.root == FileManager.default.currentDirectoryPath + "/relative/store")
        #expect(layout.snapshots.hasPrefix("/"))
    }

    @Test func verifiedBlobBecomesVisible() throws {
        let fixture = try StoreFixture()
        let data = Data("hello".utf8)
        let writer = try fixture.store.content.writer()
        try writer.write(data)
        #expect(!fixture.store.content.contains(Digest.sha256(data)))
        let descriptor = try writer.commit(expected: Digest.sha256(data), size: 5, context: "test")
        #expect(descriptor.size == 5)
        #expect(try fixture.store.content.read(Digest.sha256(data)) == data)
    }

    /// Bytes that do not match the digest are never stored.
    @Test func mismatchedBlobIsDiscarded() throws {
        let fixture = try StoreFixture()
        let expected = Digest.sha256(Data("hellO".utf8))
        let writer = try fixture.store.content.writer()
        try writer.write(Data("hello".utf8))
        do {
            try writer.commit(expected: expected, context: "test")
            Issue.record("mismatch accepted")
        } catch let error as StoreError {
            #expect("\(error)".contains(expected.description))
            #expect("\(error)".contains(Digest.sha256(Data("hello".utf8)).description))
        }
        #expect(!fixture.store.content.contains(expected))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.store.layout.ingest).isEmpty)
    }

    @Test func sizeMismatchIsDiscarded() throws {
        let fixture = try StoreFixture()
        let data = Data("hello".utf8)
        let writer = try fixture.store.content.writer()
        try writer.write(data)
        #expect(throws: StoreError.self) { try writer.commit(expected: Digest.sha256(data), size: 4, context: "test") }
        #expect(!fixture.store.content.contains(Digest.sha256(data)))
    }

    /// A blob damaged on disk is not trusted because of its name.
    @Test func corruptedBlobIsDetectedOnRead() throws {
        let fixture = try StoreFixture()
        let descriptor = try fixture.store.content.put(Data("{}".utf8), mediaType: "x")
        try Data("{ }".utf8).write(to: URL(fileURLWithPath: fixture.store.content.path(for: descriptor.digest)))
        #expect(throws: StoreError.self) { try fixture.store.content.read(descriptor.digest) }
    }

    @Test func abandonedWriterLeavesNothing() throws {
        let fixture = try StoreFixture()
        do {
            let writer = try fixture.store.content.writer()
            try writer.write(Data("partial".utf8))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.store.layout.ingest).isEmpty)
    }
}
