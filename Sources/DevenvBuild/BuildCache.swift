import DevenvOCI
import DevenvPlan
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a completed step left behind, stored under its cache key.
public struct CacheEntry: Codable, Sendable {
    /// The `CacheKey.version` the entry was made with.
    public var version = CacheKey.version
    public var key: Digest
    public var parent: Digest
    public var step: Step
    public var inputs: [BuildInput]
    /// The layer the step produced; nil for steps that only change the config, and for
    /// steps that made several (`layers`).
    public var layer: Descriptor?
    public var diffID: Digest?
    /// A `packages` step's layers, one per package (`PackageLayers`); nil otherwise, so
    /// entries of one layer read as before.
    public var layers: [StepLayer]?
    /// The run configuration after this step.
    public var config: ImageConfig.RunConfig
    public var created: String

    public init(key: Digest, parent: Digest, step: Step, inputs: [BuildInput], layer: Descriptor?, diffID: Digest?, config: ImageConfig.RunConfig, created: String,
                layers: [StepLayer]? = nil) {
        self.key = key
        self.parent = parent
        self.step = step
        self.inputs = inputs
        self.layer = layer
        self.diffID = diffID
        self.config = config
        self.created = created
        self.layers = layers
    }

    /// Every layer the step made, in order.
    public var producedLayers: [StepLayer] {
        if let layers { return layers }
        guard let layer, let diffID else { return [] }
        return [StepLayer(descriptor: layer, diffID: diffID)]
    }
}

/// One layer of a step's result.
public struct StepLayer: Codable, Sendable, Hashable {
    public var descriptor: Descriptor
    public var diffID: Digest
    /// What the layer holds when the step made several (`package curl`), for the image history.
    public var comment: String?

    public init(descriptor: Descriptor, diffID: Digest, comment: String? = nil) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.comment = comment
    }
}

/// Cache entries in `buildcache/<hex>.json`, keyed by cache key and written atomically, so
/// an entry exists only for a step whose layer is already in the store. An entry whose
/// layer blob has since been collected is a miss and is removed.
public struct BuildCache: Sendable {
    public let directory: String
    let content: ContentStore

    public init(layout: StoreLayout) {
        directory = "\(layout.root)/buildcache"
        content = ContentStore(layout: layout)
        mkdir(directory, 0o700)
    }

    func path(_ key: Digest) -> String { "\(directory)/\(key.encoded).json" }

    public func lookup(_ key: Digest) -> CacheEntry? {
        guard let data = Self.read(path(key)),
              let entry = try? JSONDecoder().decode(CacheEntry.self, from: data),
              entry.key == key else { return nil }
        if entry.producedLayers.contains(where: { !content.contains($0.descriptor.digest) }) {
            unlink(path(key))
            return nil
        }
        return entry
    }

    public func record(_ entry: CacheEntry) throws {
        try AtomicFile.write(OCIDocument.encode(entry), to: path(entry.key), mode: 0o600)
    }

    /// Every entry, for gc: entries keep their layers alive only while an image uses them.
    public func all() -> [CacheEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".json"), !name.hasPrefix("."), let data = Self.read("\(directory)/\(name)") else { return nil }
            return try? JSONDecoder().decode(CacheEntry.self, from: data)
        }
    }

    public func remove(_ key: Digest) { unlink(path(key)) }

    /// Records a hit for the store budget's least-recently-used order (the entry's mtime).
    public func touch(_ key: Digest) { AccessTimes.touch(path(key)) }

    /// The entry file of `key`, for gc.
    public func file(_ key: Digest) -> String { path(key) }

    static let maxRecordSize = 16 << 20

    private static func read(_ path: String) -> Data? {
        (try? FileDescriptor.readRegularFile(path, limit: maxRecordSize, flags: O_NOFOLLOW)).map { Data($0) }
    }

    /// Removes the entries whose layer blob is gone (after gc), so that an entry exists only
    /// while its layer does, and the entries of older cache-key versions; returns their paths.
    public func pruneMissingLayers() -> [String] {
        let missing = all().compactMap { entry -> String? in
            guard entry.producedLayers.contains(where: { !content.contains($0.descriptor.digest) }) else { return nil }
            remove(entry.key)
            return path(entry.key)
        }
        return missing + outdated().filter { unlink($0) == 0 }
    }

    /// Entries an older devenv wrote (`CacheKey.isOutdatedRecord`).
    func outdated() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            guard name.hasSuffix(".json"), !name.hasPrefix("."), let data = Self.read("\(directory)/\(name)"),
                  CacheKey.isOutdatedRecord(data) else { return nil }
            return "\(directory)/\(name)"
        }
    }

    /// `devenv check`: every file is a readable entry named after its key whose layer is
    /// present and intact (`bad` lists blobs the store check found damaged). With `repair`,
    /// bad entries are removed: the step runs again on the next build.
    public func check(bad: Set<Digest>, repair: Bool, into report: inout StoreChecker.Report) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() {
            let file = "\(directory)/\(name)"
            let outdated = !name.hasPrefix(".tmp-") && (Self.read(file).map(CacheKey.isOutdatedRecord) ?? false)
            let isDamage = !name.hasPrefix(".tmp-") && !outdated
            if isDamage { report.records += 1 }
            let problem = outdated ? "made for an older cache-key version, never used again (gc removes it)"
                : isDamage ? Self.problem(file: file, name: name, bad: bad, content: content) : "left by an interrupted write"
            guard let problem else { continue }
            var finding = StoreChecker.Finding(kind: isDamage ? .record : .leftover, object: file, problem: problem, isDamage: isDamage)
            if repair, unlink(file) == 0 { finding.repaired = "removed" }
            report.findings.append(finding)
        }
    }

    private static func problem(file: String, name: String, bad: Set<Digest>, content: ContentStore) -> String? {
        let entry: CacheEntry
        do {
            entry = try JSONDecoder().decode(CacheEntry.self, from: Data(try FileDescriptor.readRegularFile(file, limit: maxRecordSize, flags: O_NOFOLLOW)))
        } catch {
            return "unreadable build-cache record: \(error)"
        }
        guard name == "\(entry.key.encoded).json" else { return "the record is for cache key \(entry.key)" }
        for layer in entry.producedLayers.map(\.descriptor) {
            if bad.contains(layer.digest) { return "its layer \(layer.digest) is damaged" }
            if !content.contains(layer.digest) { return "its layer \(layer.digest) is missing" }
        }
        return nil
    }
}
