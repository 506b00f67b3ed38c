import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// An image known to the store: its name, manifest and config.
public struct StoredImage: Sendable {
    public var name: String
    public var manifestDescriptor: Descriptor
    public var manifest: ImageManifest
    public var config: ImageConfig

    public init(name: String, manifestDescriptor: Descriptor, manifest: ImageManifest, config: ImageConfig) {
        self.name = name
        self.manifestDescriptor = manifestDescriptor
        self.manifest = manifest
        self.config = config
    }

    /// The short id shown in listings: the manifest digest's first 12 hex characters.
    public var id: String { manifestDescriptor.digest.short }

    /// Compressed size of all layers plus config.
    public var size: Int64 { manifest.layers.reduce(manifest.config.size) { $0 + $1.size } }

    public var familiarName: String { (try? Reference(parsing: name))?.familiar ?? name }
}

/// The store as a whole: blobs, names and snapshots, opened (and created if needed) at a
/// directory. Mutating operations hold the gc lock shared, so `devenv gc` never deletes
/// what an import, pull or build is in the middle of writing.
public final class ImageStore: @unchecked Sendable {
    public let layout: StoreLayout
    public let content: ContentStore
    public let references: ReferenceStore
    public let snapshots: SnapshotStore

    public init(root: String, unpacker: any LayerUnpacking) throws {
        layout = try StoreLayout(root: root)
        content = ContentStore(layout: layout)
        references = ReferenceStore(layout: layout)
        snapshots = SnapshotStore(layout: layout, unpacker: unpacker)
        try create()
    }

    private func create() throws {
        try StoreError.wrap {
            try makeDirectory(layout.root, mode: 0o700)
            for directory in [layout.blobsRoot, layout.blobDirectory("sha256"), layout.blobDirectory("sha512"),
                              layout.ingest, layout.snapshots, layout.locks, layout.leases, layout.tmp] {
                try makeDirectory(directory, mode: 0o700)
            }
            for directory in [layout.snapshots, layout.tmp] { try restrict(directory) }
            if access(layout.ociLayoutFile, F_OK) != 0 {
                try AtomicFile.write(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layout.ociLayoutFile)
            }
            if access(layout.indexFile, F_OK) != 0 {
                let lock = try FileLock(path: layout.indexLock())
                defer { lock.unlock() }
                if access(layout.indexFile, F_OK) != 0 {
                    try AtomicFile.write(OCIDocument.encode(ImageIndex(manifests: [])), to: layout.indexFile)
                }
            }
        }
    }

    private func makeDirectory(_ path: String, mode: mode_t) throws {
        if mkdir(path, mode) == 0 { return }
        if errno == EEXIST { return }
        if errno == ENOENT, path != "/" {
            try makeDirectory(PathName.parent(path), mode: 0o755)
            if mkdir(path, mode) == 0 || errno == EEXIST { return }
        }
        throw SystemError.last("create store directory", path: path)
    }

    /// Unpacked trees are host files: an image's setuid binaries, its secrets, a container's
    /// writes. Other host users must not reach them, whatever mode an older store or a
    /// pre-created directory left (one stat when nothing is wrong).
    private func restrict(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemError.last("stat store directory", path: path) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemError("open store directory", path: path, errno: ENOTDIR) }
        if info.st_mode & 0o077 != 0 && chmod(path, info.st_mode & 0o700) != 0 {
            throw SystemError.last("restrict store directory to its owner", path: path)
        }
    }

    /// Runs `body` while holding the gc lock shared.
    public func withWriteAccess<T>(_ body: () throws -> T) throws -> T {
        let lock = try StoreError.wrap { try FileLock(path: "\(layout.locks)/gc.lock", mode: .shared) }
        defer { lock.unlock() }
        return try body()
    }

    /// Runs `body` while holding the gc lock exclusively: no import, pull or build is
    /// writing meanwhile (`onWait` is told when one has to finish first).
    public func withExclusiveAccess<T>(onWait: (() -> Void)? = nil, _ body: () throws -> T) throws -> T {
        let lock = try StoreError.wrap { try FileLock(path: "\(layout.locks)/gc.lock", onWait: onWait) }
        defer { lock.unlock() }
        return try body()
    }

    /// `withExclusiveAccess` without waiting: nil when an import, pull or build holds the lock.
    public func withExclusiveAccessIfIdle<T>(_ body: () throws -> T) throws -> T? {
        guard let lock = try StoreError.wrap({ try FileLock.attempt(path: "\(layout.locks)/gc.lock") }) else { return nil }
        defer { lock.unlock() }
        return try body()
    }

    /// When each image was last used (the budget evicts the least recently used first).
    public var accessTimes: AccessTimes { AccessTimes(layout: layout) }

    // MARK: Images

    /// Finds an image by name (`busybox`, `busybox:1`, `localhost/x@sha256:…`), by
    /// manifest digest, or by a unique prefix of its id.
    public func image(_ text: String) throws -> StoredImage {
        let entries = try references.list()
        if let reference = try? Reference(parsing: text),
           let entry = entries.first(where: { $0.name == reference.description }) {
            return try load(name: entry.name, descriptor: entry.descriptor)
        }
        if let digest = try? Digest(parsing: text), let entry = entries.first(where: { $0.descriptor.digest == digest }) {
            return try load(name: entry.name, descriptor: entry.descriptor)
        }
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if hex.count >= 4, hex.allSatisfy(\.isHexDigit) {
            let matches = entries.filter { $0.descriptor.digest.encoded.hasPrefix(hex) }
            if Set(matches.map(\.descriptor.digest)).count == 1, let entry = matches.first {
                return try load(name: entry.name, descriptor: entry.descriptor)
            }
        }
        throw StoreError.imageNotFound(text)
    }

    public func images() throws -> [StoredImage] {
        try references.list().map { try load(name: $0.name, descriptor: $0.descriptor) }
    }

    public func load(name: String, descriptor: Descriptor) throws -> StoredImage {
        let manifestData = try content.read(descriptor.digest)
        let manifest: ImageManifest
        do {
            guard case let .manifest(parsed) = try OCIDocument.parse(manifestData, declaredType: descriptor.mediaType) else {
                throw StoreError.invalidImage(name, reason: "\(descriptor.digest) is an index, not an image manifest")
            }
            manifest = parsed
            let config: ImageConfig = try OCIDocument.decode(try content.read(manifest.config.digest), as: "image config")
            try config.validate(layerCount: manifest.layers.count)
            return StoredImage(name: name, manifestDescriptor: descriptor, manifest: manifest, config: config)
        } catch let error as OCIError {
            throw StoreError.invalidImage(name, reason: error.description)
        }
    }

    /// Writes config and manifest for layers already in the store and names the result.
    @discardableResult
    public func commitImage(name: String, config: ImageConfig, layers: [Descriptor], annotations: [String: String]? = nil) throws -> StoredImage {
        try config.validate(layerCount: layers.count)
        let configDescriptor = try content.put(OCIDocument.encode(config), mediaType: MediaType.imageConfig)
        let manifest = ImageManifest(config: configDescriptor, layers: layers, annotations: annotations)
        try manifest.validate()
        let manifestDescriptor = try content.put(OCIDocument.encode(manifest), mediaType: MediaType.imageManifest)
        if try references.lookup(name)?.digest != manifestDescriptor.digest {
            try references.set(name, to: manifestDescriptor)
        }
        accessTimes.touch(manifestDescriptor.digest)
        return StoredImage(name: name, manifestDescriptor: manifestDescriptor, manifest: manifest, config: config)
    }

    /// Unpacks what is missing and returns overlay lower dirs, topmost first, plus a lease
    /// that keeps them from gc while the caller runs.
    public func mount(_ image: StoredImage, progress: (Int, Int, Descriptor) -> Void = { _, _, _ in }) throws -> (lowerDirs: [String], lease: Lease) {
        try withWriteAccess {
            let dirs = try snapshots.prepare(manifest: image.manifest, config: image.config, progress: progress)
            let digests = [image.manifestDescriptor.digest, image.manifest.config.digest] + image.manifest.layers.map(\.digest)
            let lease = try Lease(layout: layout, digests: digests, snapshots: image.config.chainIDs.map(SnapshotStore.key))
            accessTimes.touch(image.manifestDescriptor.digest)
            return (dirs, lease)
        }
    }

    /// Leases an image's snapshots, known by their keys (chain order), without reading its
    /// documents: the front end's warm start, whose record knows the chain and the blobs.
    /// `stillComplete` says whether the snapshots are still those the record saw complete; it
    /// runs under the gc lock, so gc cannot remove them between the check and the lease.
    /// nil when it says no. `digests`: the manifest's first, then the config's and the layers'.
    public func mount(snapshotKeys: [String], digests: [Digest], stillComplete: () -> Bool) throws -> (lowerDirs: [String], lease: Lease)? {
        try withWriteAccess {
            guard stillComplete() else { return nil }
            let lease = try Lease(layout: layout, digests: digests, snapshots: snapshotKeys)
            if let manifest = digests.first { accessTimes.touch(manifest) }
            return (snapshotKeys.reversed().map(snapshots.path(key:)), lease)
        }
    }

    public func removeImage(_ text: String) throws -> StoredImage {
        let image = try image(text)
        try references.remove(image.name)
        return image
    }
}
