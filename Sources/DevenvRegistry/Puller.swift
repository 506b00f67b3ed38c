import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation

/// Pulls one image from one endpoint into the store: manifest (through an index to the
/// platform's manifest), config, then the missing layers a few at a time. Everything is
/// refused that can be refused before downloading (A4, A5, A7); blobs become visible only
/// verified; the name is set last, so a failed pull leaves no partial image.
struct Puller {
    let client: EndpointClient
    let reference: Reference
    let store: ImageStore
    let platform: Platform
    let progress: TransferProgress?
    /// Unpack layers into snapshots while they download (`devenv pull` without --no-unpack).
    var unpack = false

    private var repository: String { reference.repository }
    private var configuration: RegistryConfiguration { client.configuration }

    func pull() throws -> StoredImage {
        if let digest = reference.digest, let image = try storedImage(digest: digest) {
            return image
        }
        let fetcher = ManifestFetcher(client: client, repository: repository)
        let top = try fetcher.fetch(reference.digest?.description ?? reference.tag ?? Reference.defaultTag, expectedDigest: reference.digest)
        let chosen: FetchedManifest
        switch top.document {
        case .manifest:
            chosen = top
        case let .index(index):
            let entry = try RegistryError.wrap("select platform from index \(top.descriptor.digest)") { try index.manifest(for: platform) }
            chosen = try fetcher.fetch(entry.digest.description, expected: entry)
        }
        guard case let .manifest(manifest) = chosen.document else {
            throw RegistryError(.invalidContent, "manifest \(chosen.descriptor.digest)", "expected an image manifest")
        }
        try check(manifest)
        progress?(.resolved(manifest: chosen.descriptor, blobs: [manifest.config] + manifest.layers))

        let config = try fetchConfig(manifest.config, layerCount: manifest.layers.count)
        try fetchLayers(manifest.layers, config: unpack ? config : nil)

        return try RegistryError.wrap("store the image") {
            if !store.content.contains(chosen.descriptor.digest) {
                let writer = try store.content.writer(algorithm: chosen.descriptor.digest.algorithm)
                try writer.write(chosen.data)
                try writer.commit(expected: chosen.descriptor.digest, size: chosen.descriptor.size, context: "store manifest")
            }
            try store.references.set(reference.description, to: chosen.descriptor)
            return try store.load(name: reference.description, descriptor: chosen.descriptor)
        }
    }

    /// A digest-pinned pull whose manifest and blobs are all present needs no network.
    private func storedImage(digest: Digest) throws -> StoredImage? {
        guard store.content.contains(digest),
              let data = try? store.content.read(digest),
              case let .manifest(manifest)? = try? OCIDocument.parse(data, declaredType: nil) else { return nil }
        let blobs = [manifest.config] + manifest.layers
        guard blobs.allSatisfy({ store.content.contains($0.digest) }) else { return nil }
        let descriptor = Descriptor(mediaType: manifest.mediaType ?? MediaType.imageManifest, digest: digest, size: Int64(data.count))
        return try RegistryError.wrap("store the image") {
            try store.references.set(reference.description, to: descriptor)
            return try store.load(name: reference.description, descriptor: descriptor)
        }
    }

    /// Limits beyond what `ImageManifest.validate` checks (which OCIDocument.parse ran).
    private func check(_ manifest: ImageManifest) throws {
        for layer in manifest.layers where layer.size > configuration.limits.blob {
            throw RegistryError(.tooLarge, "layer \(layer.digest)", "declared size \(layer.size) is over devenv's limit of \(configuration.limits.blob) bytes")
        }
    }

    /// Downloads and checks the config before any layer: a diff_ids count that does not
    /// match the layers is refused before the big downloads start (A4).
    private func fetchConfig(_ descriptor: Descriptor, layerCount: Int) throws -> ImageConfig {
        let operation = "config \(descriptor.digest)"
        if !store.content.contains(descriptor.digest) {
            let downloader = BlobDownloader(client: client, repository: repository, store: store,
                                            cancellation: CancellationFlag(), progress: progress)
            try downloader.download(descriptor, kind: "config")
        } else {
            progress?(.skipped(descriptor, .present))
        }
        return try RegistryError.wrap(operation) {
            let config: ImageConfig = try OCIDocument.decode(try store.content.read(descriptor.digest, limit: OCIDocument.maxSize), as: "image config")
            try config.validate(layerCount: layerCount)
            return config
        }
    }

    /// Downloads the missing layers. With `config`, each layer is also unpacked as it
    /// arrives (its first snapshot in the chain); snapshots are published only after every
    /// download has finished and only for verified blobs.
    private func fetchLayers(_ layers: [Descriptor], config: ImageConfig?) throws {
        var seen = Set<Digest>()
        var missing: [Descriptor] = []
        var chain: [Digest: (diffID: Digest, chainID: Digest, parents: [Digest])] = [:]
        let chainIDs = config?.chainIDs ?? []
        for (index, layer) in layers.enumerated() where seen.insert(layer.digest).inserted {
            if store.content.contains(layer.digest) {
                progress?(.skipped(layer, .present))
            } else {
                missing.append(layer)
                if let config { chain[layer.digest] = (config.rootfs.diffIDs[index], chainIDs[index], Array(chainIDs[..<index])) }
            }
        }
        let cancellation = CancellationFlag()
        let downloader = BlobDownloader(client: client, repository: repository, store: store,
                                        cancellation: cancellation, progress: progress)
        let snapshots = store.snapshots
        let links = chain
        let started = StreamingUnpacks()
        defer { started.finishAll() }
        try Concurrently.forEach(missing, width: configuration.concurrency, cancellation: cancellation) { layer in
            let unpack = links[layer.digest].map { link in
                { (growing: GrowingFile) in snapshots.startUnpack(layer, diffID: link.diffID, chainID: link.chainID, parents: link.parents, growing: growing) }
            }
            if let handle = try downloader.download(layer, kind: "layer", unpack: unpack) { started.add(handle) }
        }
    }
}

/// Unpacks started during the downloads; each is finished once all transfers are over,
/// so an unpack never holds up a download slot.
private final class StreamingUnpacks: @unchecked Sendable {
    private let lock = NSLock()
    private var handles: [StreamingUnpack] = []

    func add(_ handle: StreamingUnpack) {
        lock.lock()
        handles.append(handle)
        lock.unlock()
    }

    /// Handles are only added for blobs that were committed, so they are verified.
    func finishAll() {
        lock.lock()
        let all = handles
        handles = []
        lock.unlock()
        for handle in all { handle.finish(blobVerified: true) }
    }
}
