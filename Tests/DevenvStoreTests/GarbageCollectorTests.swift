import DevenvOCI
@testable import DevenvStore
import Foundation
import Testing

@Suite struct GarbageCollectorTests {
    @Test func keepsWhatNamesReachAndRemovesTheRest() throws {
        let fixture = try StoreFixture()
        let kept = try fixture.image("kept", layers: ["a", "b"])
        let dropped = try fixture.image("dropped", layers: ["a", "c"])
        _ = try fixture.store.mount(kept)
        _ = try fixture.store.mount(dropped)
        _ = try fixture.store.removeImage("dropped")
        try Data("junk".utf8).write(to: URL(fileURLWithPath: "\(fixture.store.layout.ingest)/leftover"))

        let gc = GarbageCollector(store: fixture.store)
        let dry = try gc.collect(dryRun: true)
        #expect(dry.removedSnapshots.count == 1)
        #expect(fixture.store.snapshots.list().directories.count == 3, "dry run removes nothing")

        let report = try gc.collect(dryRun: false)
        // The dropped image's manifest, config and unique layer "c".
        #expect(report.removedBlobs.count == 3)
        #expect(report.removedSnapshots.count == 1)
        #expect(report.removedTemporary.count == 1)
        #expect(report.bytesFreed > 0)
        #expect(fixture.store.content.contains(dropped.manifest.layers[0].digest), "layer a is shared")
        #expect(!fixture.store.content.contains(dropped.manifest.layers[1].digest))
        _ = try fixture.store.mount(try fixture.store.image("kept"))
        #expect(try gc.collect(dryRun: false).removedBlobs.isEmpty, "a second gc finds nothing")
    }

    /// What a running environment uses survives gc even after `image rm`.
    @Test func leasedContentSurvives() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("busy", layers: ["a"])
        let (dirs, lease) = try fixture.store.mount(image)
        _ = try fixture.store.removeImage("busy")
        let report = try GarbageCollector(store: fixture.store).collect(dryRun: false)
        #expect(report.keptInUse == 1)
        #expect(report.removedBlobs.isEmpty)
        #expect(FileManager.default.fileExists(atPath: dirs[0]))
        withExtendedLifetime(lease) {}
        _ = consume lease
        let after = try GarbageCollector(store: fixture.store).collect(dryRun: false)
        #expect(after.removedSnapshots.count == 1)
    }
}
