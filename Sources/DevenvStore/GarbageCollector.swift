import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Mark and sweep over the store: everything reachable from a name in `index.json`, from
/// a live lease or from an extra root (e.g. the build cache) is kept; the rest goes.
public struct GarbageCollector {
    public struct Report: Codable, Sendable {
        public var removedBlobs: [String] = []
        public var removedSnapshots: [String] = []
        public var removedTemporary: [String] = []
        /// Records pointing at what was removed (the Kit fills it: build-cache entries).
        public var removedRecords: [String] = []
        public var bytesFreed: Int64 = 0
        public var keptInUse: Int = 0
        public var dryRun: Bool
    }

    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// `extraRoots` are manifest digests that must survive even without a name.
    public func collect(dryRun: Bool, extraRoots: [Digest] = [], onWait: (() -> Void)? = nil) throws -> Report {
        // Exclusive: waits for imports, pulls and builds (they hold it shared) to finish.
        try store.withExclusiveAccess(onWait: onWait) { try sweep(dryRun: dryRun, extraRoots: extraRoots) }
    }

    private func sweep(dryRun: Bool, extraRoots: [Digest]) throws -> Report {
        let layout = store.layout
        var keepBlobs = Set<Digest>()
        var keepSnapshots = Set<String>()
        let leases = Lease.live(layout: layout)
        for claims in leases {
            keepBlobs.formUnion(claims.digests)
            keepSnapshots.formUnion(claims.snapshots)
        }
        let roots = try store.references.list().map(\.descriptor) + extraRoots.map {
            Descriptor(mediaType: MediaType.imageManifest, digest: $0, size: 0)
        }
        for root in roots {
            try mark(root, blobs: &keepBlobs, snapshots: &keepSnapshots, depth: 0)
        }

        var report = Report(dryRun: dryRun)
        report.keptInUse = leases.count
        let (blobs, strays) = try store.content.list()
        for (digest, size) in blobs where !keepBlobs.contains(digest) {
            report.removedBlobs.append(digest.description)
            report.bytesFreed += size
            if !dryRun { try store.content.delete(digest) }
        }
        let (directories, markers, work) = store.snapshots.list()
        for key in directories where !keepSnapshots.contains(key) {
            report.removedSnapshots.append(key)
            report.bytesFreed += DiskUsage.bytes("\(layout.snapshots)/\(key)")
            // Out of the namespace first, never deleted in place (SnapshotStore.discard).
            if !dryRun { try store.snapshots.discard(key: key) }
        }
        // With the exclusive lock held nobody is writing: every temporary file is a leftover,
        // and so is a marker without its directory (deletion removes the marker first, so only
        // damage from outside leaves one).
        let orphanMarkers = Set(markers).subtracting(directories).map { "\(layout.snapshots)/\($0)\(SnapshotMarker.suffix)" }
        var leftovers = strays + orphanMarkers + work.map { "\(layout.snapshots)/\($0)" }
        for directory in [layout.ingest, layout.tmp] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            leftovers += names.map { "\(directory)/\($0)" }
        }
        for path in leftovers {
            report.removedTemporary.append(path)
            report.bytesFreed += DiskUsage.bytes(path)
            if !dryRun { try StoreError.wrap { try DirectoryRemover.remove(path) } }
        }
        return report
    }

    private func mark(_ descriptor: Descriptor, blobs: inout Set<Digest>, snapshots: inout Set<String>, depth: Int) throws {
        guard depth < 8, store.content.contains(descriptor.digest) else { return }
        blobs.insert(descriptor.digest)
        let data = try store.content.read(descriptor.digest)
        switch try? OCIDocument.parse(data, declaredType: nil) {
        case let .index(index)?:
            for child in index.manifests { try mark(child, blobs: &blobs, snapshots: &snapshots, depth: depth + 1) }
        case let .manifest(manifest)?:
            blobs.insert(manifest.config.digest)
            blobs.formUnion(manifest.layers.map(\.digest))
            if let configData = try? store.content.read(manifest.config.digest),
               let config = try? JSONDecoder().decode(ImageConfig.self, from: configData) {
                snapshots.formUnion(config.chainIDs.map(SnapshotStore.key))
            }
        case nil:
            break
        }
    }
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
