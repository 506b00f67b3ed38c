import DevenvBuild
import DevenvOCI
import DevenvStore
import Foundation
import Testing

/// After a `CacheKey.version` bump, what older devenvs left in the build cache no longer
/// decodes: it is out of date, not damage, and gc removes it.
struct OutdatedRecordTests {
    static let key = Digest.sha256(Data("old".utf8))
    /// A build-cache entry as cache-key version 1 wrote it (no version, the old step cases).
    static let versionOne = """
        {"config":{},"created":"2026-12-01T00:00:00Z","inputs":[],"key":"\(key)","parent":"\(Digest.sha256(Data("p".utf8)))",\
        "step":{"run":{"cacheMounts":[],"command":["/bin/sh","-c","true"],"network":"host"}}}
        """

    @Test func olderEntriesAreLeftoversThatGcRemoves() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("outdated-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = BuildCache(layout: try StoreLayout(root: root))
        let old = "\(cache.directory)/\(Self.key.encoded).json"
        let torn = "\(cache.directory)/\(Digest.sha256(Data("torn".utf8)).encoded).json"
        try Data(Self.versionOne.utf8).write(to: URL(fileURLWithPath: old))
        try Data("{\"key\":".utf8).write(to: URL(fileURLWithPath: torn))
        #expect(CacheKey.isOutdatedRecord(Data(Self.versionOne.utf8)))
        #expect(cache.lookup(Self.key) == nil)

        var report = StoreChecker.Report(repair: false)
        cache.check(bad: [], repair: false, into: &report)
        #expect(report.damage.map(\.object) == [torn])
        #expect(report.findings.filter { !$0.isDamage }.map(\.object) == [old])

        #expect(cache.pruneMissingLayers() == [old])
        #expect(!FileManager.default.fileExists(atPath: old) && FileManager.default.fileExists(atPath: torn))
    }

    @Test func currentRecordsAndOtherJSONAreNotOutdated() throws {
        let entry = CacheEntry(key: Self.key, parent: Self.key, step: .config([]), inputs: [], layer: nil, diffID: nil,
                               config: ImageConfig.RunConfig(), created: "2026-12-07T00:00:00Z")
        #expect(!CacheKey.isOutdatedRecord(OCIDocument.encode(entry)))
        #expect(!CacheKey.isOutdatedRecord(Data("{}".utf8)))
        #expect(!CacheKey.isOutdatedRecord(Data("[]".utf8)))
        #expect(CacheKey.isOutdatedRecord(Data(#"{"base":"busybox","baseDigest":"\#(Self.key)","steps":[]}"#.utf8)))
    }
}
