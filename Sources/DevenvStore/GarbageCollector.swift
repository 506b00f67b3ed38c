import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Mark and sweep over the store: everything reachable from a name in `index.json`, from
/// a live lease, from a pinned root or from a budget candidate is kept; the rest goes.
///
/// With a budget (`Plan.budget`), candidates (names, and what the Kit adds: build-cache
/// entries, cache mounts) are evicted least recently used first until what remains fits.
/// Nothing a live lease or a pinned root reaches is ever evicted. The plan is computed in
/// memory first; then names and candidates' files go, then unreachable blobs and snapshots,
/// each removal atomic, so a gc killed anywhere leaves a store the next gc finishes.
public struct GarbageCollector {
    public struct Report: Codable, Sendable {
        public var removedBlobs: [String] = []
        public var removedSnapshots: [String] = []
        public var removedTemporary: [String] = []
        /// Records pointing at what was removed (the Kit fills it: build-cache entries).
        public var removedRecords: [String] = []
        /// Names removed because their project is gone (`Plan.dropNames`).
        public var removedNames: [String] = []
        /// Candidates evicted to fit the budget, oldest first.
        public var evicted: [Eviction] = []
        public var bytesFreed: Int64 = 0
        public var keptInUse: Int = 0
        public var dryRun: Bool
        public var budget: Int64?
        /// What the store holds before and after (only measured with a budget).
        public var sizeBefore: Int64?
        public var sizeAfter: Int64?

        public init(dryRun: Bool) { self.dryRun = dryRun }

        public var removedAnything: Bool {
            !(removedBlobs.isEmpty && removedSnapshots.isEmpty && removedTemporary.isEmpty && removedRecords.isEmpty
                && removedNames.isEmpty && evicted.isEmpty)
        }
    }

    public struct Eviction: Codable, Sendable, Equatable {
        public var kind: Candidate.Kind
        public var id: String
        public var lastUsed: Double
    }

    /// Something the budget may evict. It keeps `manifests` and `blobs` alive while it stays,
    /// and owns the files at `path` (`bytes` of them), removed when it is evicted.
    public struct Candidate: Sendable {
        public enum Kind: String, Codable, Sendable { case image, buildCache = "build-cache", cacheMount = "cache-mount" }
        public var kind: Kind
        public var id: String
        public var lastUsed: Double
        public var manifests: [Digest]
        public var blobs: [Digest]
        public var path: String?
        public var bytes: Int64
        /// The names removed when it is evicted (an image's, all at once).
        public var names: [String] = []

        public init(kind: Kind, id: String, lastUsed: Double, manifests: [Digest] = [], blobs: [Digest] = [], path: String? = nil, bytes: Int64 = 0) {
            self.kind = kind
            self.id = id
            self.lastUsed = lastUsed
            self.manifests = manifests
            self.blobs = blobs
            self.path = path
            self.bytes = bytes
        }
    }

    public struct Plan: Sendable {
        /// Manifests kept whatever the budget (the bases that present projects' locks pin).
        public var pinned: [Digest] = []
        /// Names removed first (the images of projects whose directory is gone).
        public var dropNames: [String] = []
        /// Trees removed with them (those projects' state).
        public var dropPaths: [String] = []
        /// Kept unless the budget evicts them; names are added by the collector itself.
        public var candidates: [Candidate] = []
        /// The most bytes the store may hold; nil keeps every candidate.
        public var budget: Int64?

        public init(pinned: [Digest] = [], dropNames: [String] = [], dropPaths: [String] = [], candidates: [Candidate] = [], budget: Int64? = nil) {
            self.pinned = pinned
            self.dropNames = dropNames
            self.dropPaths = dropPaths
            self.candidates = candidates
            self.budget = budget
        }
    }

    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// `extraRoots` are manifest digests that must survive even without a name.
    public func collect(dryRun: Bool, extraRoots: [Digest] = [], onWait: (() -> Void)? = nil) throws -> Report {
        try collect(Plan(pinned: extraRoots), dryRun: dryRun, onWait: onWait)
    }

    /// Exclusive: waits for imports, pulls and builds (they hold the gc lock shared) to finish.
    public func collect(_ plan: Plan, dryRun: Bool, onWait: (() -> Void)? = nil) throws -> Report {
        try store.withExclusiveAccess(onWait: onWait) { try sweep(plan, dryRun: dryRun) }
    }

    /// As `collect`, but only if no import, pull or build is running; nil when one is (the
    /// automatic budget after a build must never wait for another build).
    public func collectIfIdle(_ plan: Plan) throws -> Report? {
        try store.withExclusiveAccessIfIdle { try sweep(plan, dryRun: false) }
    }

    /// What the store holds and what each kind of content would free, without removing anything.
    public func usage(_ plan: Plan) throws -> StoreUsage {
        try store.withWriteAccess {
            var marking = try Marking(store: store, plan: plan)
            return marking.usage()
        }
    }

    private func sweep(_ plan: Plan, dryRun: Bool) throws -> Report {
        let layout = store.layout
        var marking = try Marking(store: store, plan: plan)
        var report = Report(dryRun: dryRun)
        report.keptInUse = marking.leaseCount
        report.removedNames = plan.dropNames.filter(marking.names.keys.contains).sorted()
        report.budget = plan.budget
        var evicted = Set<Int>()
        if let budget = plan.budget {
            var size = marking.size(evicting: evicted)
            report.sizeBefore = size
            // Oldest first, and only what frees something: a build-cache entry whose layer an
            // image still holds stays, unless a later pass finds the image gone.
            var remaining = marking.evictionOrder()
            var progressed = true
            while size > budget, progressed {
                progressed = false
                for index in remaining where size > budget {
                    let smaller = marking.size(evicting: evicted.union([index]))
                    guard smaller < size else { continue }
                    evicted.insert(index)
                    size = smaller
                    progressed = true
                    let candidate = marking.candidates[index]
                    report.evicted.append(Eviction(kind: candidate.kind, id: candidate.id, lastUsed: candidate.lastUsed))
                }
                remaining.removeAll(where: evicted.contains)
            }
            report.sizeAfter = size
        }
        let (keepBlobs, keepSnapshots) = marking.reachable(evicting: evicted)

        // Names and candidates' own files first: until the blobs go, a gc killed here leaves
        // only unreachable content, which the next gc removes.
        if !dryRun {
            for name in report.removedNames { try store.references.remove(name) }
        }
        for index in evicted.sorted() {
            let candidate = marking.candidates[index]
            report.bytesFreed += candidate.bytes
            guard !dryRun else { continue }
            for name in candidate.names { try store.references.remove(name) }
            if let path = candidate.path { try StoreError.wrap { try DirectoryRemover.remove(path) } }
        }
        for path in plan.dropPaths where access(path, F_OK) == 0 {
            report.removedTemporary.append(path)
            report.bytesFreed += DiskUsage.bytes(path)
            if !dryRun { try StoreError.wrap { try DirectoryRemover.remove(path) } }
        }

        for (digest, size) in marking.blobs where !keepBlobs.contains(digest) {
            report.removedBlobs.append(digest.description)
            report.bytesFreed += size
            if !dryRun { try store.content.delete(digest) }
        }
        for key in marking.snapshotKeys where !keepSnapshots.contains(key) {
            report.removedSnapshots.append(key)
            report.bytesFreed += marking.snapshotSize(key)
            // Out of the namespace first, never deleted in place (SnapshotStore.discard).
            if !dryRun { try store.snapshots.discard(key: key) }
        }
        // With the exclusive lock held nobody is writing: every temporary file is a leftover,
        // and so is a marker without its directory (deletion removes the marker first, so only
        // damage from outside leaves one).
        let (directories, markers, work) = store.snapshots.list()
        let orphanMarkers = Set(markers).subtracting(directories).map { "\(layout.snapshots)/\($0)\(SnapshotMarker.suffix)" }
        var leftovers = marking.strays + orphanMarkers + work.map { "\(layout.snapshots)/\($0)" }
        for directory in [layout.ingest, layout.tmp] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            leftovers += names.map { "\(directory)/\($0)" }
        }
        for path in leftovers {
            report.removedTemporary.append(path)
            report.bytesFreed += DiskUsage.bytes(path)
            if !dryRun { try StoreError.wrap { try DirectoryRemover.remove(path) } }
        }
        if !dryRun {
            marking.saveSizes(keeping: keepSnapshots)
            AccessTimes(layout: layout).prune(keeping: keepBlobs)
        }
        return report
    }
}

/// What `devenv df` shows: bytes per kind of content and what removing the unused part frees.
public struct StoreUsage: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var kind: String
        public var count: Int
        public var bytes: Int64
        public var reclaimable: Int64
    }

    public var rows: [Row]
    public var total: Int64
}

/// The reachability graph gc and df work on, read once: each manifest's blobs and snapshots
/// memoised, snapshot sizes measured once per snapshot and remembered in `snapshot-sizes.json`
/// (a published snapshot never changes).
struct Marking {
    let store: ImageStore
    let plan: Plan
    let leaseCount: Int
    let blobs: [(Digest, Int64)]
    let blobSizes: [Digest: Int64]
    let strays: [String]
    let snapshotKeys: [String]
    /// Every name in the store, with its manifest.
    let names: [String: Digest]
    /// The plan's candidates plus one per name (not for names that are dropped).
    let candidates: [GarbageCollector.Candidate]
    private let leasedBlobs: Set<Digest>
    private let leasedSnapshots: Set<String>
    private var graph: [Digest: (blobs: Set<Digest>, snapshots: Set<String>)] = [:]
    private var sizes: [String: Int64]
    private let sizesFile: String

    typealias Plan = GarbageCollector.Plan

    init(store: ImageStore, plan: Plan) throws {
        self.store = store
        self.plan = plan
        let leases = Lease.live(layout: store.layout)
        leaseCount = leases.count
        leasedBlobs = Set(leases.flatMap(\.digests))
        leasedSnapshots = Set(leases.flatMap(\.snapshots))
        (blobs, strays) = try store.content.list()
        blobSizes = Dictionary(blobs, uniquingKeysWith: { first, _ in first })
        snapshotKeys = store.snapshots.list().directories
        let entries = try store.references.list()
        names = Dictionary(entries.map { ($0.name, $0.descriptor.digest) }, uniquingKeysWith: { first, _ in first })
        let dropped = Set(plan.dropNames)
        let access = AccessTimes(layout: store.layout)
        // One candidate per image, with all its names: evicting one of two names frees nothing.
        var byManifest: [Digest: [String]] = [:]
        for entry in entries where !dropped.contains(entry.name) { byManifest[entry.descriptor.digest, default: []].append(entry.name) }
        let images = byManifest.map { digest, names in
            let used = access.lastUsed(digest) ?? AccessTimes.modified(store.content.path(for: digest)) ?? 0
            var candidate = GarbageCollector.Candidate(kind: .image, id: names.sorted()[0], lastUsed: used, manifests: [digest])
            candidate.names = names.sorted()
            return candidate
        }.sorted { $0.id < $1.id }
        candidates = images + plan.candidates
        sizesFile = "\(store.layout.root)/snapshot-sizes.json"
        sizes = (try? FileDescriptor.readRegularFile(sizesFile, limit: 16 << 20, flags: O_NOFOLLOW))
            .flatMap { try? JSONDecoder().decode([String: Int64].self, from: Data($0)) } ?? [:]
    }

    /// Least recently used first; never what a lease or a pinned root holds.
    func evictionOrder() -> [Int] {
        let pinned = Set(plan.pinned)
        return candidates.indices.filter { index in
            let candidate = candidates[index]
            return !candidate.manifests.contains(where: { pinned.contains($0) || leasedBlobs.contains($0) })
                && !candidate.blobs.contains(where: leasedBlobs.contains)
        }.sorted { candidates[$0].lastUsed < candidates[$1].lastUsed }
    }

    mutating func reachable(evicting evicted: Set<Int>) -> (blobs: Set<Digest>, snapshots: Set<String>) {
        var keepBlobs = leasedBlobs
        var keepSnapshots = leasedSnapshots
        var manifests = plan.pinned
        for (index, candidate) in candidates.enumerated() where !evicted.contains(index) {
            manifests += candidate.manifests
            keepBlobs.formUnion(candidate.blobs.filter { blobSizes[$0] != nil })
        }
        for manifest in manifests {
            let reached = closure(manifest, depth: 0)
            keepBlobs.formUnion(reached.blobs)
            keepSnapshots.formUnion(reached.snapshots)
        }
        return (keepBlobs, keepSnapshots)
    }

    /// The bytes that would remain: kept blobs and snapshots, and the candidates' own files.
    mutating func size(evicting evicted: Set<Int>) -> Int64 {
        let (keepBlobs, keepSnapshots) = reachable(evicting: evicted)
        var total = keepBlobs.reduce(Int64(0)) { $0 + (blobSizes[$1] ?? 0) }
        for key in keepSnapshots where snapshotKeys.contains(key) { total += snapshotSize(key) }
        for (index, candidate) in candidates.enumerated() where !evicted.contains(index) { total += candidate.bytes }
        return total
    }

    mutating func snapshotSize(_ key: String) -> Int64 {
        if let known = sizes[key] { return known }
        let measured = DiskUsage.bytes("\(store.layout.snapshots)/\(key)")
        sizes[key] = measured
        return measured
    }

    /// Not durable: a lost file only costs measuring again.
    func saveSizes(keeping keys: Set<String>) {
        let kept = sizes.filter { keys.contains($0.key) }
        try? AtomicFile.write(OCIDocument.encode(kept), to: sizesFile, mode: 0o600, durable: false)
    }

    private mutating func closure(_ digest: Digest, depth: Int) -> (blobs: Set<Digest>, snapshots: Set<String>) {
        if let known = graph[digest] { return known }
        guard depth < 8, blobSizes[digest] != nil, let data = try? store.content.read(digest) else { return ([], []) }
        var reached: (blobs: Set<Digest>, snapshots: Set<String>) = ([digest], [])
        switch try? OCIDocument.parse(data, declaredType: nil) {
        case let .index(index)?:
            for child in index.manifests {
                let sub = closure(child.digest, depth: depth + 1)
                reached.blobs.formUnion(sub.blobs)
                reached.snapshots.formUnion(sub.snapshots)
            }
        case let .manifest(manifest)?:
            reached.blobs.insert(manifest.config.digest)
            reached.blobs.formUnion(manifest.layers.map(\.digest))
            if let configData = try? store.content.read(manifest.config.digest),
               let config = try? JSONDecoder().decode(ImageConfig.self, from: configData) {
                reached.snapshots.formUnion(config.chainIDs.map(SnapshotStore.key))
            }
        case nil:
            break
        }
        reached.blobs = reached.blobs.filter { blobSizes[$0] != nil }
        graph[digest] = reached
        return reached
    }

    /// Per kind: everything it holds, and what evicting all of its evictable members frees.
    mutating func usage() -> StoreUsage {
        let everything = size(evicting: [])
        let order = Set(evictionOrder())
        var rows: [StoreUsage.Row] = []
        for kind in GarbageCollector.Candidate.Kind.allCasesInOrder {
            let members = Set(candidates.indices.filter { candidates[$0].kind == kind })
            let withoutKind = size(evicting: members)
            let reclaimable = everything - size(evicting: members.intersection(order))
            rows.append(StoreUsage.Row(kind: kind.rawValue, count: members.count, bytes: max(0, everything - withoutKind), reclaimable: max(0, reclaimable)))
        }
        let (keepBlobs, keepSnapshots) = reachable(evicting: [])
        var snapshotBytes: Int64 = 0
        var unusedSnapshots: Int64 = 0
        for key in snapshotKeys {
            let bytes = snapshotSize(key)
            snapshotBytes += bytes
            if !keepSnapshots.contains(key) { unusedSnapshots += bytes }
        }
        rows.append(StoreUsage.Row(kind: "snapshots", count: snapshotKeys.count, bytes: snapshotBytes, reclaimable: unusedSnapshots))
        let unreferenced = blobs.filter { !keepBlobs.contains($0.0) }
        rows.append(StoreUsage.Row(kind: "unreferenced blobs", count: unreferenced.count, bytes: unreferenced.reduce(0) { $0 + $1.1 },
                                   reclaimable: unreferenced.reduce(0) { $0 + $1.1 }))
        let total = blobs.reduce(Int64(0)) { $0 + $1.1 } + snapshotBytes + candidates.reduce(Int64(0)) { $0 + $1.bytes }
        saveSizes(keeping: Set(snapshotKeys))
        return StoreUsage(rows: rows, total: total)
    }
}

extension GarbageCollector.Candidate.Kind {
    static let allCasesInOrder: [Self] = [.image, .buildCache, .cacheMount]
}

/// Bytes used on disk by a file or tree (allocated blocks, not apparent size).
public enum DiskUsage {
    public static func bytes(_ path: String) -> Int64 {
        var seen = Set<UInt64>()
        return bytes(path, seen: &seen)
    }

    private static func bytes(_ path: String, seen: inout Set<UInt64>) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        // Count hardlinked files once.
        if info.st_nlink > 1, !isDirectory, !seen.insert(UInt64(info.st_ino)).inserted { return 0 }
        var total = Int64(info.st_blocks) * 512
        if isDirectory {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                total += bytes("\(path)/\(name)", seen: &seen)
            }
        }
        return total
    }
}
