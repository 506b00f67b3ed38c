import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Turns a layer blob into a directory usable as an overlayfs lower dir.
public protocol LayerUnpacking: Sendable {
    /// Unpacks the layer at `path` into the empty `directory` and returns the digest of the
    /// uncompressed tar stream (the layer's DiffID).
    func unpack(layerAt path: String, declared: LayerCompression?, into directory: String) throws -> Digest
}

/// Unpacked layers, one directory per layer keyed by chain id (`snapshots/sha256-<hex>`),
/// so images sharing a prefix of layers share the snapshots. A snapshot directory appears
/// only by an atomic rename after complete extraction and DiffID verification; work in
/// progress lives in `snapshots/.tmp-<key>-<uuid>` and is removed by the next attempt or gc.
public struct SnapshotStore: Sendable {
    public let layout: StoreLayout
    public let content: ContentStore
    public let unpacker: any LayerUnpacking

    public init(layout: StoreLayout, unpacker: any LayerUnpacking) {
        self.layout = layout
        self.content = ContentStore(layout: layout)
        self.unpacker = unpacker
    }

    public static func key(_ chainID: Digest) -> String { "\(chainID.algorithm.rawValue)-\(chainID.encoded)" }

    public func path(for chainID: Digest) -> String { "\(layout.snapshots)/\(Self.key(chainID))" }

    public func exists(_ chainID: Digest) -> Bool {
        var info = stat()
        return lstat(path(for: chainID), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Makes sure every layer of the image has a snapshot and returns the lower dirs in
    /// overlayfs order (topmost layer first). `progress` hears about each layer unpacked.
    public func prepare(manifest: ImageManifest, config: ImageConfig, progress: (Int, Int, Descriptor) -> Void = { _, _, _ in }) throws -> [String] {
        try config.validate(layerCount: manifest.layers.count)
        let chain = config.chainIDs
        for (index, layer) in manifest.layers.enumerated() where !exists(chain[index]) {
            progress(index, manifest.layers.count, layer)
            try unpack(layer, diffID: config.rootfs.diffIDs[index], chainID: chain[index])
        }
        return chain.reversed().map { path(for: $0) }
    }

    private func unpack(_ layer: Descriptor, diffID: Digest, chainID: Digest) throws {
        let key = Self.key(chainID)
        // Serialise work on the same snapshot across processes (RELIABILITY H2): the second
        // process waits, then finds the snapshot done.
        let lock = try StoreError.wrap { try FileLock(path: "\(layout.locks)/snapshot-\(key).lock") }
        defer { lock.unlock() }
        if exists(chainID) { return }
        try removeStaleWork(for: key)
        guard content.contains(layer.digest) else { throw StoreError.blobNotFound(layer.digest) }
        let work = "\(layout.snapshots)/.tmp-\(key)-\(UUID().uuidString)"
        try StoreError.wrap {
            guard mkdir(work, 0o755) == 0 else { throw SystemError.last("mkdir", path: work) }
        }
        do {
            let actual: Digest
            do {
                actual = try unpacker.unpack(layerAt: content.path(for: layer.digest), declared: MediaType.layerCompression(layer.mediaType), into: work)
            } catch {
                throw StoreError.unpack(layer: layer.digest, underlying: "\(error)")
            }
            guard actual == diffID else {
                throw StoreError.digestMismatch(expected: diffID, actual: actual, context: "unpack layer \(layer.digest) (DiffID from the image config)")
            }
            try StoreError.wrap {
                try AtomicFile.rename(work, to: path(for: chainID))
                try AtomicFile.syncDirectory(layout.snapshots)
            }
        } catch {
            try? DirectoryRemover.remove(work)
            throw error
        }
    }

    /// Leftovers of a killed unpack of `key`; safe to delete because we hold its lock.
    private func removeStaleWork(for key: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots)) ?? []
        for name in names where name.hasPrefix(".tmp-\(key)-") {
            try DirectoryRemover.remove("\(layout.snapshots)/\(name)")
        }
    }

    /// Makes `directory` (on the store's filesystem, already in snapshot form: overlay
    /// whiteouts and all, e.g. a build step's upper directory) the snapshot for `chainID`.
    /// If another process got there first, ours is discarded.
    public func adopt(directory: String, chainID: Digest) throws {
        let lock = try StoreError.wrap { try FileLock(path: "\(layout.locks)/snapshot-\(Self.key(chainID)).lock") }
        defer { lock.unlock() }
        if exists(chainID) {
            try StoreError.wrap { try DirectoryRemover.remove(directory) }
            return
        }
        try StoreError.wrap {
            try AtomicFile.rename(directory, to: path(for: chainID))
            try AtomicFile.syncDirectory(layout.snapshots)
        }
    }

    /// Chain-id keys of every complete snapshot, and the in-progress directories.
    public func list() -> (complete: [String], work: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots)) ?? []
        return (names.filter { !$0.hasPrefix(".") }, names.filter { $0.hasPrefix(".tmp-") })
    }
}
