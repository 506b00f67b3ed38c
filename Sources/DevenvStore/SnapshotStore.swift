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
/// so images sharing a prefix of layers share the snapshots.
///
/// A snapshot is usable only while its completion marker `snapshots/<key>.complete`
/// (`SnapshotMarker`: chain id and DiffID) exists and matches. Publishing: unpack into
/// `snapshots/.tmp-<key>-<uuid>`, verify the DiffID, rename the directory into place, then
/// write the marker atomically and durably. Deleting is the reverse: remove the marker (and
/// fsync), rename the directory out of the namespace to `snapshots/.trash-<key>-<uuid>`,
/// then remove that. So at every instant a marker means a complete directory, whatever was
/// killed where; a directory without a marker (an interrupted publish or deletion, or a
/// snapshot from before markers) is never used but moved aside and unpacked again, and
/// `.tmp-`/`.trash-` leftovers are removed by the next attempt on the key or by gc.
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

    public func path(for chainID: Digest) -> String { path(key: Self.key(chainID)) }

    public func path(key: String) -> String { "\(layout.snapshots)/\(key)" }

    public func markerPath(for chainID: Digest) -> String { "\(path(for: chainID))\(SnapshotMarker.suffix)" }

    /// Whether the snapshot for `chainID` is complete: its marker names this chain id and
    /// `diffID`, and its directory is there. Anything less is unusable.
    public func isComplete(_ chainID: Digest, diffID: Digest) -> Bool {
        guard let marker = marker(for: chainID), marker.chainID == chainID, marker.diffID == diffID, marker.isCurrent else { return false }
        var info = stat()
        return lstat(path(for: chainID), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether every layer of an image with `config` has a complete snapshot.
    public func isComplete(_ config: ImageConfig) -> Bool {
        zip(config.chainIDs, config.rootfs.diffIDs).allSatisfy { isComplete($0, diffID: $1) }
    }

    /// The marker of `chainID`'s snapshot, nil when it is missing or unreadable.
    public func marker(for chainID: Digest) -> SnapshotMarker? {
        guard let bytes = try? FileDescriptor.readRegularFile(markerPath(for: chainID), limit: SnapshotMarker.maxSize) else { return nil }
        return try? JSONDecoder().decode(SnapshotMarker.self, from: Data(bytes))
    }

    /// Makes sure every layer of the image has a snapshot and returns the lower dirs in
    /// overlayfs order (topmost layer first). `progress` hears about each layer unpacked.
    public func prepare(manifest: ImageManifest, config: ImageConfig, progress: (Int, Int, Descriptor) -> Void = { _, _, _ in }) throws -> [String] {
        try config.validate(layerCount: manifest.layers.count)
        let chain = config.chainIDs
        let diffIDs = config.rootfs.diffIDs
        for (index, layer) in manifest.layers.enumerated() where !isComplete(chain[index], diffID: diffIDs[index]) {
            progress(index, manifest.layers.count, layer)
            try unpack(layer, diffID: diffIDs[index], chainID: chain[index], lowers: lowers(chain[..<index]))
        }
        return lowers(chain[...])
    }

    /// The snapshot directories of a chain, topmost first (overlayfs `lowerdir` order).
    private func lowers(_ chain: ArraySlice<Digest>) -> [String] {
        chain.reversed().map { path(for: $0) }
    }

    private func unpack(_ layer: Descriptor, diffID: Digest, chainID: Digest, lowers: [String]) throws {
        let key = Self.key(chainID)
        // Serialise work on the same snapshot across processes: the second
        // process waits, then finds the snapshot done.
        let lock = try StoreError.wrap { try FileLock(path: "\(layout.locks)/snapshot-\(key).lock") }
        defer { lock.unlock() }
        if isComplete(chainID, diffID: diffID) { return }
        try removeStaleWork(for: key)
        // Whatever is left under the key without a valid marker is incomplete.
        try discard(chainID)
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
            try publish(work: work, chainID: chainID, diffID: diffID)
        } catch {
            try? DirectoryRemover.remove(work)
            throw error
        }
    }

    /// Leftovers of a killed unpack or deletion of `key`; safe to delete because we hold its lock.
    private func removeStaleWork(for key: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots)) ?? []
        for name in names where name.hasPrefix(".tmp-\(key)-") || name.hasPrefix("\(Self.trashPrefix)\(key)-") {
            try DirectoryRemover.remove("\(layout.snapshots)/\(name)")
        }
    }

    static let trashPrefix = ".trash-"

    /// Deletes the snapshot of `chainID`, marker first, so no moment shows a marker with a
    /// partial directory: a kill mid-way leaves at most a `.trash-` directory for gc (or the
    /// next unpack of the key) and, under the real name, nothing a consumer would use.
    public func discard(_ chainID: Digest) throws {
        try discard(key: Self.key(chainID))
    }

    /// `discard` by the directory name under `snapshots/` (gc lists names, not chain ids).
    public func discard(key: String) throws {
        let directory = "\(layout.snapshots)/\(key)"
        try StoreError.wrap {
            let markerGone = unlink(directory + SnapshotMarker.suffix) == 0
            guard markerGone || errno == ENOENT else { throw SystemError.last("unlink", path: directory + SnapshotMarker.suffix) }
            var info = stat()
            guard lstat(directory, &info) == 0 else {
                if errno == ENOENT { return }
                throw SystemError.last("stat", path: directory)
            }
            if markerGone { try AtomicFile.syncDirectory(layout.snapshots) }
            let trash = "\(layout.snapshots)/\(Self.trashPrefix)\(key)-\(UUID().uuidString)"
            try AtomicFile.rename(directory, to: trash)
            try DirectoryRemover.remove(trash)
        }
    }

    /// Makes `directory` (on the store's filesystem, already in snapshot form: overlay
    /// whiteouts and all, e.g. a build step's upper directory) the snapshot for `chainID`.
    /// If another process got there first, ours is discarded.
    /// `diffIDs` are the image's layers up to and including this one.
    public func adopt(directory: String, diffIDs: [Digest]) throws {
        guard let chainID = ChainID.compute(diffIDs).last, let diffID = diffIDs.last else { return }
        let lock = try StoreError.wrap { try FileLock(path: "\(layout.locks)/snapshot-\(Self.key(chainID)).lock") }
        defer { lock.unlock() }
        if isComplete(chainID, diffID: diffID) {
            try StoreError.wrap { try DirectoryRemover.remove(directory) }
            return
        }
        try discard(chainID)
        try publish(work: directory, chainID: chainID, diffID: diffID)
    }

    /// Starts unpacking `layer` from its blob while the blob is still downloading into
    /// `growing`, on a thread of its own. Nil when the snapshot exists or another process
    /// is making it. The snapshot becomes visible only through `StreamingUnpack.finish`
    /// after the blob was verified; otherwise the work is discarded. `parents` is the chain
    /// below (bottom first); unless all of their snapshots exist, an entry that would resolve
    /// through them ends the head start (`prepare` unpacks the layer later, over them).
    public func startUnpack(_ layer: Descriptor, diffID: Digest, chainID: Digest, parents: [Digest], growing: GrowingFile) -> StreamingUnpack? {
        let key = Self.key(chainID)
        guard !isComplete(chainID, diffID: diffID),
              let lock = try? FileLock.attempt(path: "\(layout.locks)/snapshot-\(key).lock") else { return nil }
        guard !isComplete(chainID, diffID: diffID), (try? removeStaleWork(for: key)) != nil, (try? discard(chainID)) != nil else {
            lock.unlock()
            return nil
        }
        let work = "\(layout.snapshots)/.tmp-\(key)-\(UUID().uuidString)"
        guard mkdir(work, 0o755) == 0 else {
            lock.unlock()
            return nil
        }
        let ready = parents.allSatisfy { marker(for: $0)?.chainID == $0 }
        let target = UnpackTarget(directory: work, lowers: ready ? lowers(parents[...]) : nil, diffIDAlgorithm: diffID.algorithm)
        return StreamingUnpack(store: self, layer: layer, diffID: diffID, chainID: chainID, growing: growing, target: target, lock: lock)
    }

    /// Renames the finished `work` directory into place, then writes its marker: the marker
    /// is the last thing to appear, so its presence means the directory is complete.
    fileprivate func publish(work: String, chainID: Digest, diffID: Digest) throws {
        try StoreError.wrap {
            try AtomicFile.rename(work, to: path(for: chainID))
            try AtomicFile.write(OCIDocument.encode(SnapshotMarker(chainID: chainID, diffID: diffID)), to: markerPath(for: chainID), mode: 0o600)
        }
    }

    /// What `snapshots/` holds: snapshot directories by key, markers by the key they belong
    /// to, and work in progress or deletions interrupted (`.tmp-`, `.trash-`).
    public func list() -> (directories: [String], markers: [String], work: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots)) ?? []
        let markers = names.filter { !$0.hasPrefix(".") && $0.hasSuffix(SnapshotMarker.suffix) }
        return (names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(SnapshotMarker.suffix) },
                markers.map { String($0.dropLast(SnapshotMarker.suffix.count)) },
                names.filter { $0.hasPrefix(".tmp-") || $0.hasPrefix(Self.trashPrefix) })
    }
}

/// `snapshots/<key>.complete`, written last when a snapshot is published and removed first
/// when it is deleted: `{"chainID":"sha256:…","diffID":"sha256:…","format":2}`, the chain id
/// the directory is named after, the DiffID its layer was verified against, and how its
/// files hold the image's owners.
public struct SnapshotMarker: Codable, Equatable, Sendable {
    public static let suffix = ".complete"
    static let maxSize = 4096
    /// 2: every node has the owner its layer gave it, in the ids of the store's user
    /// namespace (rootless: unpacked by the namespace's root). Markers without a format are
    /// from before: rootless snapshots then belonged to the user, with the owners in an
    /// xattr that running steps do not see, so such a snapshot is not used but unpacked
    /// again from its layer (which always had the right owners).
    public static let currentFormat = 2

    public var chainID: Digest
    public var diffID: Digest
    public var format: Int?

    public init(chainID: Digest, diffID: Digest, format: Int? = SnapshotMarker.currentFormat) {
        self.chainID = chainID
        self.diffID = diffID
        self.format = format
    }

    /// Whether the snapshot was made the way this devenv makes them.
    public var isCurrent: Bool { format == Self.currentFormat }
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
        if blobVerified, case let .success(actual)? = result, actual == diffID, (try? store.publish(work: work, chainID: chainID, diffID: diffID)) != nil {
            return true
        }
        try? DirectoryRemover.remove(work)
        return false
    }
}
