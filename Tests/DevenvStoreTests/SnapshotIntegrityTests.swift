import DevenvOCI
@testable import DevenvStore
import Foundation
import Testing

/// Issue 11 item 8: a snapshot is used only with its completion marker, deletion takes it
/// out of the namespace before removing anything, and `StoreChecker` finds (and repairs)
/// damaged blobs, snapshots and names.
@Suite struct SnapshotIntegrityTests {
    @Test func publishingWritesAMarkerWithChainIDAndDiffID() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a", "b"])
        _ = try fixture.store.mount(image)
        for (chainID, diffID) in zip(image.config.chainIDs, image.config.rootfs.diffIDs) {
            #expect(fixture.store.snapshots.marker(for: chainID) == SnapshotMarker(chainID: chainID, diffID: diffID))
            #expect(fixture.store.snapshots.isComplete(chainID, diffID: diffID))
        }
        let listing = fixture.store.snapshots.list()
        #expect(Set(listing.markers) == Set(listing.directories))
    }

    /// What an interrupted in-place deletion left: a directory under its real name with
    /// files missing. Without its marker it is unpacked again, not used.
    @Test func aSnapshotWithoutMarkerIsUnpackedAgain() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a"])
        let (dirs, _) = try fixture.store.mount(image)
        let chainID = image.config.chainIDs[0]
        unlink(fixture.store.snapshots.markerPath(for: chainID))
        unlink(dirs[0] + "/content")
        #expect(!fixture.store.snapshots.isComplete(image.config))

        let (again, _) = try fixture.store.mount(image)
        #expect(again == dirs)
        #expect(try String(contentsOfFile: again[0] + "/content", encoding: .utf8) == "a", "the layer was unpacked again")
        #expect(fixture.store.snapshots.isComplete(image.config))
        #expect(fixture.store.snapshots.list().work.isEmpty, "the incomplete directory was removed")
    }

    /// A snapshot from before the one id space (issue 12): its marker has no format. It is
    /// not used but unpacked again from its layer, and `check` calls it a leftover, not damage.
    @Test func aSnapshotOfAnOlderFormatIsUnpackedAgain() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a"])
        let (dirs, _) = try fixture.store.mount(image)
        let chainID = image.config.chainIDs[0]
        let old = SnapshotMarker(chainID: chainID, diffID: image.config.rootfs.diffIDs[0], format: nil)
        try OCIDocument.encode(old).write(to: URL(fileURLWithPath: fixture.store.snapshots.markerPath(for: chainID)))
        try "stale".write(toFile: dirs[0] + "/content", atomically: false, encoding: .utf8)
        #expect(!fixture.store.snapshots.isComplete(image.config))

        let check = try self.check(fixture.store, repair: false)
        #expect(check.damage.isEmpty, "\(check.findings)")
        #expect(check.findings.contains { $0.kind == .leftover && $0.object == dirs[0] && $0.problem.contains("older devenv") }, "\(check.findings)")

        let (again, _) = try fixture.store.mount(image)
        #expect(again == dirs)
        #expect(try String(contentsOfFile: again[0] + "/content", encoding: .utf8) == "a", "the layer was unpacked again")
        #expect(fixture.store.snapshots.marker(for: chainID)?.format == SnapshotMarker.currentFormat)
    }

    @Test func aMarkerForAnotherDiffIDDoesNotCount() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a"])
        _ = try fixture.store.mount(image)
        let chainID = image.config.chainIDs[0]
        let wrong = SnapshotMarker(chainID: chainID, diffID: Digest.sha256(Data("other".utf8)))
        try OCIDocument.encode(wrong).write(to: URL(fileURLWithPath: fixture.store.snapshots.markerPath(for: chainID)))
        #expect(!fixture.store.snapshots.isComplete(chainID, diffID: image.config.rootfs.diffIDs[0]))
    }

    @Test func gcLeavesNoMarkerForARemovedSnapshotAndRemovesTrash() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a"])
        _ = try fixture.store.mount(image)
        _ = try fixture.store.removeImage("x")
        // The remains of a gc killed after its rename.
        let trash = "\(fixture.store.layout.snapshots)/.trash-sha256-\(String(repeating: "0", count: 64))-dead"
        try FileManager.default.createDirectory(atPath: trash + "/half", withIntermediateDirectories: true)
        let report = try GarbageCollector(store: fixture.store).collect(dryRun: false)
        #expect(report.removedSnapshots.count == 1)
        #expect(report.removedTemporary.contains(trash))
        let listing = fixture.store.snapshots.list()
        #expect(listing.directories.isEmpty && listing.markers.isEmpty && listing.work.isEmpty)
    }

    // MARK: StoreChecker

    private func check(_ store: ImageStore, repair: Bool) throws -> StoreChecker.Report {
        try store.withExclusiveAccess {
            var report = StoreChecker.Report(repair: repair)
            _ = try StoreChecker(store: store).check(repair: repair, into: &report)
            return report
        }
    }

    @Test func aHealthyStoreChecksClean() throws {
        let fixture = try StoreFixture()
        _ = try fixture.store.mount(try fixture.image("x", layers: ["a", "b"]))
        let report = try check(fixture.store, repair: false)
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.blobs == 4 && report.images == 1 && report.snapshots == 2)
    }

    @Test func checkFindsAndRepairsACorruptBlobATruncatedSnapshotAndADanglingName() throws {
        let fixture = try StoreFixture()
        let damagedLayer = try fixture.image("corrupt", layers: ["c"])
        let truncated = try fixture.image("truncated", layers: ["t"])
        _ = try fixture.store.mount(truncated)
        // A layer blob whose bytes changed on disk.
        let layerPath = fixture.store.content.path(for: damagedLayer.manifest.layers[0].digest)
        try Data("C".utf8).write(to: URL(fileURLWithPath: layerPath))
        // A snapshot an old gc left half-deleted: files gone and no marker.
        let snapshot = fixture.store.snapshots.path(for: truncated.config.chainIDs[0])
        unlink(fixture.store.snapshots.markerPath(for: truncated.config.chainIDs[0]))
        unlink(snapshot + "/content")
        // A name whose manifest is not in the store.
        let missing = Digest.sha256(Data("no such manifest".utf8))
        try fixture.store.references.set("docker.io/library/dangling:1", to: Descriptor(mediaType: MediaType.imageManifest, digest: missing, size: 10))

        let report = try check(fixture.store, repair: false)
        let damage = report.damage
        #expect(damage.count == 4, "\(damage)")
        #expect(damage.contains { $0.kind == .blob && $0.object == damagedLayer.manifest.layers[0].digest.description })
        #expect(damage.contains { $0.kind == .snapshot && $0.object == snapshot && $0.problem.contains("no valid completion marker") })
        #expect(damage.contains { $0.kind == .image && $0.object == "docker.io/library/dangling:1" && $0.problem.contains("missing") })
        // The image using the corrupt layer cannot be used either.
        #expect(damage.contains { $0.kind == .image && $0.object == "docker.io/library/corrupt:latest" && $0.problem.contains("damaged") })
        #expect(report.unrepaired.count == 4, "a check without --repair changes nothing")
        #expect(FileManager.default.fileExists(atPath: layerPath))

        let repaired = try check(fixture.store, repair: true)
        #expect(repaired.unrepaired.isEmpty, "\(repaired.unrepaired)")
        #expect(try fixture.store.references.lookup("docker.io/library/corrupt:latest") == nil)
        #expect(!FileManager.default.fileExists(atPath: layerPath))
        #expect(!FileManager.default.fileExists(atPath: snapshot))
        #expect(try fixture.store.references.lookup("docker.io/library/dangling:1") == nil)

        let after = try check(fixture.store, repair: false)
        #expect(after.findings.isEmpty, "\(after.findings)")
        // The next use unpacks the truncated snapshot's layer again.
        let (dirs, _) = try fixture.store.mount(try fixture.store.image("truncated"))
        #expect(try String(contentsOfFile: dirs[0] + "/content", encoding: .utf8) == "t")
    }

    @Test func repairLeavesASnapshotARunningEnvironmentUses() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("x", layers: ["a"])
        let (dirs, lease) = try fixture.store.mount(image)
        unlink(fixture.store.snapshots.markerPath(for: image.config.chainIDs[0]))
        let report = try check(fixture.store, repair: true)
        #expect(report.unrepaired.count == 1 && report.unrepaired[0].problem.contains("a running environment uses it"))
        #expect(FileManager.default.fileExists(atPath: dirs[0] + "/content"))
        withExtendedLifetime(lease) {}
        _ = consume lease
        #expect(try check(fixture.store, repair: true).unrepaired.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dirs[0]))
    }

    @Test func checkReportsAnUnreadableIndexAndRepairStartsOver() throws {
        let fixture = try StoreFixture()
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: fixture.store.layout.indexFile))
        let report = try check(fixture.store, repair: true)
        #expect(report.damage.map(\.kind) == [.index])
        #expect(report.unrepaired.isEmpty)
        #expect(try fixture.store.references.list().isEmpty)
        #expect(try check(fixture.store, repair: false).findings.isEmpty)
    }
}
