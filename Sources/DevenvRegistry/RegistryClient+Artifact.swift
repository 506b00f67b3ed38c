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
    /// Downloads the archive at `url` (https; plain http only where a registry may use it:
    /// loopback or insecure-listed hosts) into `store`'s content, following at most five
    /// redirects under the same rule and sending no credentials; at most `limit` bytes.
    public func fetchArchive(_ url: URL, mediaType: String, limit: Int, into store: ImageStore) throws -> Descriptor {
        let operation = "download \(HTTPMessage.display(url))"
        var current = url
        for _ in 0...5 {
            guard let scheme = current.scheme?.lowercased(), let host = current.host,
                  scheme == "https" || (scheme == "http" && configuration.hosts.allowsPlainHTTP(current.port.map { "\(host):\($0)" } ?? host)) else {
                throw RegistryError(.insecure, operation, "\(HTTPMessage.display(current)) is not https (plain http only for loopback or insecure-listed hosts)")
            }
            let response = try http.send(HTTPRequest("GET", current), handling: .buffer(limit: limit), deadline: configuration.timeouts.document)
            switch response.status {
            case 200:
                return try RegistryError.wrap(operation) { try store.withWriteAccess { try store.content.put(response.body, mediaType: mediaType) } }
            case 301, 302, 303, 307, 308:
                guard let location = response.header("location"), let next = URL(string: location, relativeTo: current)?.absoluteURL else {
                    throw RegistryError(.invalidContent, operation, "a redirect without a usable Location")
                }
                current = next
            default:
                throw Retrying.statusError(response, operation: operation)
            }
        }
        throw RegistryError(.refused, operation, "more than five redirects")
    }
}
