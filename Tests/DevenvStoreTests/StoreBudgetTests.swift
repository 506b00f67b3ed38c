import DevenvOCI
@testable import DevenvStore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The budget (`GarbageCollector.Plan.budget`): least recently used first, never what a
/// lease or a pinned root holds, and nothing at all while the store fits.
@Suite struct StoreBudgetTests {
    /// Sets the image's last use `age` seconds ago.
    private func used(_ fixture: StoreFixture, _ image: StoredImage, secondsAgo age: Int) {
        let path = fixture.store.accessTimes.path(image.manifestDescriptor.digest)
        var times = [timespec(tv_sec: time(nil) - age, tv_nsec: 0), timespec(tv_sec: time(nil) - age, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0, "the image has an access record")
    }

    private func big(_ tag: String) -> String { String(repeating: tag, count: 40_000) }

    @Test func evictsLeastRecentlyUsedUntilTheStoreFits() throws {
        let fixture = try StoreFixture()
        let old = try fixture.image("old", layers: [big("o")])
        let middle = try fixture.image("middle", layers: [big("m")])
        let recent = try fixture.image("recent", layers: [big("r")])
        used(fixture, old, secondsAgo: 300)
        used(fixture, middle, secondsAgo: 200)
        used(fixture, recent, secondsAgo: 100)
        let gc = GarbageCollector(store: fixture.store)

        let roomy = try gc.collect(GarbageCollector.Plan(budget: 10_000_000), dryRun: false)
        #expect(roomy.evicted.isEmpty && roomy.removedBlobs.isEmpty, "a store within its budget keeps everything")

        // Room for a bit more than one image: the two oldest go, oldest first.
        let report = try gc.collect(GarbageCollector.Plan(budget: 60_000), dryRun: false)
        #expect(report.evicted.map(\.id) == [old.name, middle.name])
        #expect((report.sizeAfter ?? .max) <= 60_000)
        #expect((report.sizeBefore ?? 0) > 120_000)
        #expect(try fixture.store.references.list().map(\.name) == [recent.name])
        #expect(!fixture.store.content.contains(old.manifest.layers[0].digest))
        #expect(fixture.store.content.contains(recent.manifest.layers[0].digest))
    }

    @Test func neverEvictsWhatALeaseOrAPinHolds() throws {
        let fixture = try StoreFixture()
        let running = try fixture.image("running", layers: [big("a")])
        let locked = try fixture.image("locked", layers: [big("b")])
        let idle = try fixture.image("idle", layers: [big("c")])
        used(fixture, running, secondsAgo: 900)
        used(fixture, locked, secondsAgo: 800)
        used(fixture, idle, secondsAgo: 10)
        let (_, lease) = try fixture.store.mount(running)
        used(fixture, running, secondsAgo: 900)

        let report = try GarbageCollector(store: fixture.store).collect(GarbageCollector.Plan(pinned: [locked.manifestDescriptor.digest], budget: 0), dryRun: false)
        #expect(report.evicted.map(\.id) == [idle.name], "only the unpinned, unleased image goes, however recent")
        #expect((report.sizeAfter ?? 0) > 0, "what is in use stays over the budget")
        let names = try fixture.store.references.list().map(\.name).sorted()
        #expect(names == [locked.name, running.name].sorted())
        #expect(FileManager.default.fileExists(atPath: fixture.store.snapshots.path(for: running.config.chainIDs[0])))
        withExtendedLifetime(lease) {}
    }

    @Test func candidatesKeepTheirBlobsAndGoWithTheirFiles() throws {
        let fixture = try StoreFixture()
        let cached = try fixture.layer(big("x"))
        let entry = "\(fixture.root)/entry.json"
        let mount = "\(fixture.root)/mount"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: entry))
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try Data(big("y").utf8).write(to: URL(fileURLWithPath: "\(mount)/package.deb"))
        let candidates = [
            GarbageCollector.Candidate(kind: .buildCache, id: entry, lastUsed: 1, blobs: [cached.digest], path: entry),
            GarbageCollector.Candidate(kind: .cacheMount, id: mount, lastUsed: 2, path: mount, bytes: DiskUsage.bytes(mount)),
        ]
        let gc = GarbageCollector(store: fixture.store)
        let kept = try gc.collect(GarbageCollector.Plan(candidates: candidates, budget: 10_000_000), dryRun: false)
        #expect(kept.removedBlobs.isEmpty, "a build-cache entry keeps its layer while the store fits")

        let dry = try gc.collect(GarbageCollector.Plan(candidates: candidates, budget: 50_000), dryRun: true)
        #expect(dry.evicted.map(\.kind) == [.buildCache])
        #expect(FileManager.default.fileExists(atPath: entry), "a dry run removes nothing")

        let trimmed = try gc.collect(GarbageCollector.Plan(candidates: candidates, budget: 0), dryRun: false)
        #expect(trimmed.evicted.map(\.kind) == [.buildCache, .cacheMount])
        #expect(!FileManager.default.fileExists(atPath: entry) && !FileManager.default.fileExists(atPath: mount))
        #expect(!fixture.store.content.contains(cached.digest))
        #expect(trimmed.sizeAfter == 0)
    }

    @Test func droppedNamesAndPathsGo() throws {
        let fixture = try StoreFixture()
        let gone = try fixture.image("localhost/devenv/app:0123456789ab", layers: [big("g")])
        let state = "\(fixture.root)/projects/0123456789ab"
        try FileManager.default.createDirectory(atPath: "\(state)/cache/x", withIntermediateDirectories: true)
        let report = try GarbageCollector(store: fixture.store).collect(GarbageCollector.Plan(dropNames: [gone.name], dropPaths: [state]), dryRun: false)
        #expect(report.removedNames == [gone.name])
        #expect(try fixture.store.references.list().isEmpty)
        #expect(!fixture.store.content.contains(gone.manifest.layers[0].digest))
        #expect(!FileManager.default.fileExists(atPath: state))
    }

    @Test func usageCountsEachKindAndWhatIsReclaimable() throws {
        let fixture = try StoreFixture()
        let image = try fixture.image("one", layers: [big("u")])
        _ = try fixture.store.mount(image)
        let usage = try GarbageCollector(store: fixture.store).usage(GarbageCollector.Plan(budget: 0))
        let images = try #require(usage.rows.first { $0.kind == "image" })
        #expect(images.count == 1 && images.bytes >= 40_000 && images.reclaimable == images.bytes)
        let snapshots = try #require(usage.rows.first { $0.kind == "snapshots" })
        #expect(snapshots.count == 1 && snapshots.bytes > 0 && snapshots.reclaimable == 0)
        #expect(usage.total >= images.bytes, "an image's size includes its snapshots")
    }

    @Test func collectIfIdleDoesNotWaitForAWriter() throws {
        let fixture = try StoreFixture()
        let skipped = try fixture.store.withWriteAccess {
            try GarbageCollector(store: fixture.store).collectIfIdle(GarbageCollector.Plan(budget: 0))
        }
        #expect(skipped == nil)
        #expect(try GarbageCollector(store: fixture.store).collectIfIdle(GarbageCollector.Plan(budget: 0)) != nil)
    }
}
