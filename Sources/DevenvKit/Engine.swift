import DevenvArchive
import DevenvBuild
import DevenvOCI
import DevenvRegistry
import DevenvRuntime
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The entry point of devenv's use cases: one store, opened once per command.
public final class Engine: @unchecked Sendable {
    public let store: ImageStore
    /// How the store's snapshots' owners read as the images' (rootless: `ImageOwnership`).
    public let ownership: ImageOwnership?

    /// Opens (creating if needed) the store at `root`, or at the default location.
    public init(storeRoot: String? = nil) throws {
        let host = HostIdentity.current()
        ownership = .onHost(host)
        // Rootless, layers are unpacked by the user namespace's root, so snapshots hold the
        // images' owners in the ids every container of this user sees.
        let unpacker: any LayerUnpacking = host.idMapping.map { NamespaceLayerUnpacker(mapping: $0) } ?? ArchiveLayerUnpacker()
        store = try ImageStore(root: storeRoot ?? StoreLayout.defaultRoot(), unpacker: unpacker)
    }

    /// A builder over this store that reads its snapshots' owners right.
    public func builder(executor: any StepExecutor) -> Builder {
        var builder = Builder(store: store, executor: executor)
        builder.ownership = ownership
        return builder
    }

    public func importer() -> ImageImporter { ImageImporter(store: store, ownership: ownership) }
    public func exporter() -> ImageExporter { ImageExporter(store: store) }
    public func storeCheck() -> StoreCheck { StoreCheck(engine: self) }

    /// `devenv gc` (`StoreBudget`): everything no name, lease or present project's lock
    /// reaches goes, with the build-cache entries of the layers that went; `maxSize` also
    /// evicts the least recently used images, build-cache entries and cache mounts.
    public func collectGarbage(dryRun: Bool, maxSize: Int64? = nil, onWait: (() -> Void)? = nil) throws -> GarbageCollector.Report {
        try StoreBudget(engine: self).collect(dryRun: dryRun, maxSize: maxSize, onWait: onWait)
    }

    /// Reports registry transfers while `resolve` pulls; the CLI draws progress bars.
    public var transferProgress: TransferProgress?

    /// The image a reference names: from the store, else pulled from its registry.
    /// `localhost/…` names are local by convention (as with podman) and never pulled.
    public func resolve(_ reference: Reference) throws -> StoredImage {
        if let digest = reference.digest {
            return try image(digest: digest, name: reference)
        }
        do {
            return try store.image(reference.description)
        } catch StoreError.imageNotFound where reference.registry != "localhost" {
            return try pull(reference)
        }
    }

    /// Where a tag points now, asking its registry again even when the store has the tag
    /// (`devenv lock`). An image the registry cannot give (only imported here, or the
    /// registry unreachable) stays the store's, with a note saying so.
    public func refresh(_ reference: Reference) throws -> StoredImage {
        guard reference.digest == nil, reference.registry != "localhost" else { return try resolve(reference) }
        do {
            return try pull(reference)
        } catch let error as RegistryError {
            guard let local = try? store.image(reference.description) else { throw error }
            notes("kept the store's \(reference.familiar): \(error)")
            return local
        }
    }

    /// Hears what a use case wants the user to know without failing (the CLI prints it).
    public var notes: @Sendable (String) -> Void = { _ in }

    public func pull(_ reference: Reference) throws -> StoredImage {
        try registry().pull(reference, into: store, unpack: true, progress: transferProgress)
    }

    /// The command's one registry client, made on first use from the standard configuration:
    /// every pull, push and existence check of one invocation shares its tokens and connections.
    public func registry() throws -> RegistryClient {
        registryLock.lock()
        defer { registryLock.unlock() }
        if let registryClient { return registryClient }
        let client = RegistryClient(configuration: try .standard())
        registryClient = client
        return client
    }

    private let registryLock = Lock()
    private var registryClient: RegistryClient?

    /// An image by manifest digest, named or not (a lock file pins a digest that the tag
    /// may no longer point at); pulled by digest when it is not in the store.
    public func image(digest: Digest, name: Reference) throws -> StoredImage {
        guard store.content.contains(digest) else {
            guard name.registry != "localhost" else { throw StoreError.imageNotFound("\(name.familiar) at \(digest)") }
            var pinned = name
            pinned.tag = nil
            pinned.digest = digest
            let pulled = try pull(pinned)
            return pulled
        }
        let data = try store.content.read(digest)
        guard case let .manifest(manifest) = try OCIDocument.parse(data, declaredType: nil) else {
            throw StoreError.invalidImage(name.familiar, reason: "\(digest) is an image index, not a manifest")
        }
        let descriptor = Descriptor(mediaType: manifest.mediaType ?? MediaType.imageManifest, digest: digest, size: Int64(data.count))
        return try store.load(name: name.description, descriptor: descriptor)
    }
}

/// Applies layers with DevenvArchive's confined unpacker, in this process (root: owners
/// as the layer gives them, overlay whiteouts in `trusted.`).
struct ArchiveLayerUnpacker: LayerUnpacking {
    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        try LayerUnpacker.unpack(layerAt: path, declared: declared, into: target.directory,
                                 lowers: Self.lowers(target), options: options(target)).diffID
    }

    func unpack(growing layer: GrowingFile, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        try LayerUnpacker.unpack(growing: layer, declared: declared, into: target.directory,
                                 lowers: Self.lowers(target), options: options(target)).diffID
    }

    static func lowers(_ target: UnpackTarget) -> LowerLayers {
        guard let lowers = target.lowers else { return .pending }
        return lowers.isEmpty ? .none : .directories(lowers)
    }

    private func options(_ target: UnpackTarget) -> UnpackOptions {
        var options = UnpackOptions()
        options.diffIDAlgorithm = target.diffIDAlgorithm
        return options
    }
}
