import DevenvOCI
import DevenvStore
import Foundation

/// An OCI artifact: a manifest whose config and layers are of the artifact's own media
/// types (a Dev Container Feature: `application/vnd.devcontainers` and
/// `application/vnd.devcontainers.layer.v1+tar`), which no image pull would accept.
public struct ArtifactType: Sendable, Equatable {
    public var config: String
    public var layer: String

    public init(config: String, layer: String) {
        self.config = config
        self.layer = layer
    }
}

public struct PulledArtifact: Sendable, Equatable {
    /// The manifest's digest: what a lock pins.
    public var manifest: Digest
    /// Each layer is in the store's content, verified.
    public var layers: [Descriptor]
}

extension RegistryClient {
    /// Fetches the artifact's manifest (mirrors first, like an image pull), refuses one of
    /// another type, and stores its layers, verified; no name is set and nothing unpacked.
    public func pullArtifact(_ reference: Reference, type: ArtifactType, into store: ImageStore) throws -> PulledArtifact {
        let operation = "pull \(reference)"
        var mirrorErrors: [String] = []
        for endpoint in try configuration.hosts.endpoints(for: reference.registry, pull: true) {
            do {
                return try store.withWriteAccess { try pullArtifact(reference, type: type, from: client(for: endpoint), into: store) }
            } catch let error as RegistryError {
                guard endpoint.isMirror else {
                    var final = error.within(operation)
                    if !mirrorErrors.isEmpty { final.reason += " (mirrors failed first: \(mirrorErrors.joined(separator: "; ")))" }
                    throw final
                }
                mirrorErrors.append("\(endpoint): \(error.description)")
            } catch {
                throw RegistryError(.store, operation, "\(error)")
            }
        }
        throw RegistryError(.configuration, operation, "no endpoint for \(reference.registry)")
    }

    private func pullArtifact(_ reference: Reference, type: ArtifactType, from client: EndpointClient, into store: ImageStore) throws -> PulledArtifact {
        let fetcher = ManifestFetcher(client: client, repository: reference.repository)
        let target = reference.digest?.description ?? reference.tag ?? Reference.defaultTag
        let (data, digest, _) = try fetcher.fetchVerified(target, accept: [MediaType.imageManifest], expectedDigest: reference.digest)
        let what = "artifact manifest \(digest)"
        let manifest: ImageManifest = try RegistryError.wrap(what) { try OCIDocument.decode(data, as: "artifact manifest") }
        guard manifest.config.mediaType == type.config else {
            throw RegistryError(.invalidContent, what, "its config is \(Printable.escape(manifest.config.mediaType, limit: 120)), not \(type.config)")
        }
        guard !manifest.layers.isEmpty, manifest.layers.count <= ImageManifest.maxLayers else {
            throw RegistryError(.invalidContent, what, "it has \(manifest.layers.count) layers")
        }
        for layer in manifest.layers {
            guard layer.mediaType == type.layer else {
                throw RegistryError(.invalidContent, what, "layer \(layer.digest) is \(Printable.escape(layer.mediaType, limit: 120)), not \(type.layer)")
            }
            try RegistryError.wrap(what) { try layer.validate(context: "layer") }
        }
        let downloader = BlobDownloader(client: client, repository: reference.repository, store: store,
                                        cancellation: CancellationFlag(), progress: nil)
        for layer in manifest.layers { try downloader.download(layer, kind: "layer") }
        return PulledArtifact(manifest: digest, layers: manifest.layers)
    }

    /// Pushes an artifact whose config and layers are in `store`'s content, then its
    /// manifest under `reference`'s tag; returns the manifest digest.
    @discardableResult
    public func pushArtifact(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil,
                             from store: ImageStore, to reference: Reference) throws -> Digest {
        let operation = "push \(reference)"
        do {
            let pusher = try pusher(for: reference, store: store, progress: nil)
            try pusher.pushBlobs([config] + layers, mountSources: [:])
            let manifest = ImageManifest(config: config, layers: layers, annotations: annotations)
            let data = OCIDocument.encode(manifest)
            return try pusher.pushManifest(data, mediaType: MediaType.imageManifest, tagOrDigest: tagOrDigest(reference, digest: Digest.sha256(data)))
        } catch let error as RegistryError {
            throw error.within(operation)
        }
    }
}

extension RegistryClient {
    /// Downloads the archive at `url` into `store`'s content under the registry's URL rule
    /// (https; plain http only for loopback or insecure-listed hosts), sending no
    /// credentials; at most `limit` bytes.
    public func fetchArchive(_ url: URL, mediaType: String, limit: Int, into store: ImageStore) throws -> Descriptor {
        let path = "\(store.layout.tmp)/download-\(UUID().uuidString)"
        defer { unlink(path) }
        _ = try download(url, to: path, expected: nil, limit: Int64(limit), rule: .likeARegistry)
        return try RegistryError.wrap("store the download of \(HTTPMessage.display(url))") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try store.withWriteAccess { try store.content.put(data, mediaType: mediaType) }
        }
    }
}
