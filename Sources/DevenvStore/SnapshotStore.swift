import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where a layer is unpacked, over what, and how its DiffID is computed.
public struct UnpackTarget: Sendable, Equatable {
    /// An empty directory: the snapshot to be.
    public var directory: String
    /// The snapshots of the layers below, topmost first (overlayfs order), through which the
    /// layer's parent paths resolve (a lower `lib -> usr/lib`). Nil when there are layers
    /// below whose snapshots are not ready yet: the unpacker must then fail on an entry
    /// that depends on them rather than guess.
    public var lowers: [String]?
    /// The algorithm of the config's diff_id for this layer.
    public var diffIDAlgorithm: Digest.Algorithm

    public init(directory: String, lowers: [String]?, diffIDAlgorithm: Digest.Algorithm = .sha256) {
        self.directory = directory
        self.lowers = lowers
        self.diffIDAlgorithm = diffIDAlgorithm
    }
}

/// Turns a layer blob into a directory usable as an overlayfs lower dir.
public protocol LayerUnpacking: Sendable {
    /// Unpacks the layer at `path` into `target` and returns the digest of the uncompressed
    /// tar stream (the layer's DiffID) with `target.diffIDAlgorithm`.
    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest
    /// The same for a blob still being downloaded into `layer`: reads follow the file until
    /// it is complete, and throw if the download is abandoned.
    func unpack(growing layer: GrowingFile, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest
}

extension LayerUnpacking {
    /// Without a streaming unpacker: waits for the whole blob, then unpacks the file.
    public func unpack(growing layer: GrowingFile, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        let reader = try StoreError.wrap { try layer.reader() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while try StoreError.wrap({ try reader.read(into: buffer) }) > 0 {}
        return try unpack(layerAt: layer.path, declared: declared, into: target)
    }
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
            try unpack(layer, diffID: config.rootfs.diffIDs[index], chainID: chain[index], lowers: lowers(chain[..<index]))
        }
        return lowers(chain[...])
    }

    /// The snapshot directories of a chain, topmost first (overlayfs `lowerdir` order).
    private func lowers(_ chain: ArraySlice<Digest>) -> [String] {
        chain.reversed().map { path(for: $0) }
    }

    private func unpack(_ layer: Descriptor, diffID: Digest, chainID: Digest, lowers: [String]) throws {
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
                let target = UnpackTarget(directory: work, lowers: lowers, diffIDAlgorithm: diffID.algorithm)
                actual = try unpacker.unpack(layerAt: content.path(for: layer.digest), declared: MediaType.layerCompression(layer.mediaType), into: target)
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

    /// Starts unpacking `layer` from its blob while the blob is still downloading into
    /// `growing`, on a thread of its own. Nil when the snapshot exists or another process
    /// is making it. The snapshot becomes visible only through `StreamingUnpack.finish`
    /// after the blob was verified; otherwise the work is discarded. `parents` is the chain
    /// below (bottom first); unless all of their snapshots exist, an entry that would resolve
    /// through them ends the head start (`prepare` unpacks the layer later, over them).
    public func startUnpack(_ layer: Descriptor, diffID: Digest, chainID: Digest, parents: [Digest], growing: GrowingFile) -> StreamingUnpack? {
        let key = Self.key(chainID)
        guard !exists(chainID),
              let lock = try? FileLock.attempt(path: "\(layout.locks)/snapshot-\(key).lock") else { return nil }
        guard !exists(chainID), (try? removeStaleWork(for: key)) != nil else {
            lock.unlock()
            return nil
        }
        let work = "\(layout.snapshots)/.tmp-\(key)-\(UUID().uuidString)"
        guard mkdir(work, 0o755) == 0 else {
            lock.unlock()
            return nil
        }
        let ready = parents.allSatisfy(exists)
        let target = UnpackTarget(directory: work, lowers: ready ? lowers(parents[...]) : nil, diffIDAlgorithm: diffID.algorithm)
        return StreamingUnpack(store: self, layer: layer, diffID: diffID, chainID: chainID, growing: growing, target: target, lock: lock)
    }

    fileprivate func publish(work: String, chainID: Digest) throws {
        try StoreError.wrap {
            try AtomicFile.rename(work, to: path(for: chainID))
            try AtomicFile.syncDirectory(layout.snapshots)
        }
    }

    /// Chain-id keys of every complete snapshot, and the in-progress directories.
    public func list() -> (complete: [String], work: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots)) ?? []
        return (names.filter { !$0.hasPrefix(".") }, names.filter { $0.hasPrefix(".tmp-") })
    }
}

/// A layer being unpacked while its blob downloads (SnapshotStore.startUnpack). Purely a
/// head start: when anything goes wrong the work is dropped and `prepare` unpacks the
/// verified blob later as usual, reporting any error then.
public final class StreamingUnpack: @unchecked Sendable {
    private let store: SnapshotStore
    private let chainID: Digest
    private let diffID: Digest
    private let growing: GrowingFile
    private let work: String
    private let lock: FileLock
    private var thread: JoinableThread?
    private var result: Result<Digest, Error>?
    private var finished = false

    fileprivate init(store: SnapshotStore, layer: Descriptor, diffID: Digest, chainID: Digest,
                     growing: GrowingFile, target: UnpackTarget, lock: FileLock) {
        self.store = store
        self.chainID = chainID
        self.diffID = diffID
        self.growing = growing
        self.work = target.directory
        self.lock = lock
        let declared = MediaType.layerCompression(layer.mediaType)
        thread = try? JoinableThread { [self] in
            result = Result { try store.unpacker.unpack(growing: growing, declared: declared, into: target) }
        }
    }

    /// Waits for the unpack. With `blobVerified` (the blob was committed under its digest)
    /// and a DiffID matching the config, renames the snapshot into place and returns true;
    /// otherwise discards the work. Call once.
    @discardableResult
    public func finish(blobVerified: Bool) -> Bool {
        precondition(!finished, "StreamingUnpack.finish called twice")
        finished = true
        if !blobVerified { growing.finish(.abandoned("the blob was not verified")) }
        thread?.join()
        defer { lock.unlock() }
        if blobVerified, case let .success(actual)? = result, actual == diffID, (try? store.publish(work: work, chainID: chainID)) != nil {
            return true
        }
        try? DirectoryRemover.remove(work)
        return false
    }
}
