import DevenvOCI
@testable import DevenvStore
import Foundation
import Testing

@Suite struct ImageStoreTests {
    @Test func namesResolveByNameDigestAndId() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("busybox:1", layers: ["a"])
        #expect(try fixture.store.image("busybox:1").manifestDescriptor == image.manifestDescriptor)
        #expect(try fixture.store.image("docker.io/library/busybox:1").name == "docker.io/library/busybox:1")
        #expect(try fixture.store.image(image.manifestDescriptor.digest.description).name == image.name)
        #expect(try fixture.store.image(image.id).name == image.name)
        #expect(image.familiarName == "busybox:1")
        #expect(throws: StoreError.self) { try fixture.store.image("busybox:2") }
    }

    @Test func retaggingReplacesAndRemoveForgets() throws {
        let fixture = try StoreFixture()
        try fixture.image("x", layers: ["a"])
        let second = try fixture.image("x", layers: ["b"])
        #expect(try fixture.store.images().count == 1)
        #expect(try fixture.store.image("x").manifestDescriptor == second.manifestDescriptor)
        _ = try fixture.store.removeImage("x")
        #expect(try fixture.store.images().isEmpty)
    }

    @Test func indexJSONIsAValidOCIIndexWithRefNames() throws {
        let fixture = try StoreFixture()
        try fixture.image("localhost/env:dev", layers: ["a"])
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(fixture.root)/index.json"))
        let index: ImageIndex = try OCIDocument.decode(data, as: "index")
        #expect(index.manifests.first?.annotations?["org.opencontainers.image.ref.name"] == "localhost/env:dev")
    }

    @Test func snapshotsAreKeyedByChainIdAndShared() throws {
        let fixture = try StoreFixture()
        let first = try fixture.image("one", layers: ["base", "top1"])
        let second = try fixture.image("two", layers: ["base", "top2"])
        let (dirsOne, _) = try fixture.store.mount(first)
        let (dirsTwo, _) = try fixture.store.mount(second)
        #expect(dirsOne.count == 2)
        #expect(dirsOne.last == dirsTwo.last, "the shared base layer has one snapshot")
        #expect(dirsOne.first != dirsTwo.first)
        #expect(try String(contentsOfFile: dirsOne.first! + "/content", encoding: .utf8) == "top1")
        #expect(fixture.store.snapshots.list().directories.count == 3)
    }

    /// A failed unpack leaves no snapshot and no work directory.
    @Test func failedUnpackLeavesNothingVisible() throws {
        let fixture = try StoreFixture(unpacker: FakeUnpacker(failWith: "boom"))
        let image = try fixture.image("x", layers: ["a"])
        #expect(throws: StoreError.self) { try fixture.store.mount(image) }
        let listing = fixture.store.snapshots.list()
        #expect(listing.directories.isEmpty)
        #expect(listing.work.isEmpty)
    }

    @Test func diffIDMismatchIsRejected() throws {
        let fixture = try StoreFixture(unpacker: FakeUnpacker(reportedDiffID: Digest.sha256(Data("other".utf8))))
        let image = try fixture.image("x", layers: ["a"])
        do {
            _ = try fixture.store.mount(image)
            Issue.record("mismatching DiffID accepted")
        } catch {
            #expect("\(error)".contains("DiffID"))
        }
        #expect(fixture.store.snapshots.list().directories.isEmpty)
    }

    @Test func staleWorkFromAKilledUnpackIsRemoved() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a"])
        let key = SnapshotStore.key(image.config.chainIDs[0])
        let stale = "\(fixture.store.layout.snapshots)/.tmp-\(key)-dead"
        try FileManager.default.createDirectory(atPath: stale + "/sub", withIntermediateDirectories: true)
        _ = try fixture.store.mount(image)
        #expect(!FileManager.default.fileExists(atPath: stale))
    }
}
