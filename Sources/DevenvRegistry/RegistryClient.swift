import DevenvOCI
import DevenvStore
import Foundation

/// An OCI distribution-spec client: pull into and push from an `ImageStore`, check whether
/// an image exists, verify a login. Thread-safe; one client reuses connections and tokens
/// across calls. All methods block the calling thread.
public final class RegistryClient: @unchecked Sendable {
    public let configuration: RegistryConfiguration
    let http: HTTPClient
    private let lock = NSLock()
    private var authenticators: [String: Authenticator] = [:]

    public init(configuration: RegistryConfiguration = RegistryConfiguration()) {
        self.configuration = configuration
        http = HTTPClient(timeouts: configuration.timeouts, errorBodyLimit: configuration.limits.errorBody,
                          userAgent: configuration.userAgent, trust: configuration.trust)
    }

    // MARK: Pull

    /// Pulls `reference` (tag or digest) for `platform`, stores manifest, config and layers
    /// verified, names the image `reference.description` and returns it. Mirrors are tried
    /// first, then the registry. With `unpack`, layers that are downloaded are also unpacked
    /// into snapshots as they arrive (a head start for `ImageStore.mount`, which unpacks
    /// whatever is still missing); a snapshot appears only for a verified blob.
    public func pull(_ reference: Reference, into store: ImageStore, platform: Platform = .host,
                     unpack: Bool = false, progress: TransferProgress? = nil) throws -> StoredImage {
        let operation = "pull \(reference)"
        let endpoints = try configuration.hosts.endpoints(for: reference.registry, pull: true)
        var mirrorErrors: [String] = []
        for endpoint in endpoints {
            do {
                return try store.withWriteAccess {
                    var puller = Puller(client: client(for: endpoint), reference: reference, store: store, platform: platform, progress: progress)
                    puller.unpack = unpack
                    return try puller.pull()
                }
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

    // MARK: Push

    /// Pushes `image` to `reference` (a tag, or a digest equal to the image's manifest
    /// digest) and returns the manifest digest. Blobs the store knows to be in another
    /// repository of the same registry (images pulled from there) are mounted.
    @discardableResult
    public func push(_ image: StoredImage, from store: ImageStore, to reference: Reference,
                     progress: TransferProgress? = nil) throws -> Digest {
        let operation = "push \(reference)"
        do {
            let pusher = try pusher(for: reference, store: store, progress: progress)
            let blobs = [image.manifest.config] + image.manifest.layers
            progress?(.resolved(manifest: image.manifestDescriptor, blobs: blobs))
            try pusher.pushBlobs(blobs, mountSources: mountSources(for: blobs, registry: reference.registry, excluding: reference.repository, store: store))
            let data = try RegistryError.wrap("read manifest") { try store.content.read(image.manifestDescriptor.digest) }
            let target = try tagOrDigest(reference, digest: image.manifestDescriptor.digest)
            return try pusher.pushManifest(data, mediaType: image.manifestDescriptor.mediaType, tagOrDigest: target)
        } catch let error as RegistryError {
            throw error.within(operation)
        }
    }

    /// PUTs a manifest or index document (whose blobs or child manifests must already be
    /// in the repository) under `reference`, returning its digest.
    @discardableResult
    public func pushManifest(_ data: Data, mediaType: String, to reference: Reference) throws -> Digest {
        let operation = "push \(reference)"
        do {
            let pusher = try pusher(for: reference, store: nil, progress: nil)
            return try pusher.pushManifest(data, mediaType: mediaType, tagOrDigest: tagOrDigest(reference, digest: Digest.sha256(data)))
        } catch let error as RegistryError {
            throw error.within(operation)
        }
    }

    // MARK: Exists

    /// HEADs the manifest of `reference`: its descriptor if the registry has it, nil if not.
    public func exists(_ reference: Reference) throws -> Descriptor? {
        let operation = "check \(reference)"
        do {
            let endpoint = try origin(reference.registry)
            let client = client(for: endpoint)
            let target = reference.digest?.description ?? reference.tag ?? Reference.defaultTag
            let url = try client.url("\(reference.repository)/manifests/\(target)")
            let request = HTTPRequest("HEAD", url, headers: ["Accept": ManifestFetcher.acceptedTypes.joined(separator: ", ")])
            let response = try client.send(request, scopes: ["repository:\(reference.repository):pull"],
                                           handling: .buffer(limit: configuration.limits.errorBody),
                                           deadline: configuration.timeouts.document, retry: true, operation: "HEAD manifest")
            switch response.status {
            case 200:
                break
            case 404:
                return nil
            default:
                throw Retrying.statusError(response, operation: "HEAD manifest")
            }
            let type = response.mediaType.flatMap { ManifestFetcher.acceptedTypes.contains($0) ? $0 : nil }
            if let digest = response.header("docker-content-digest").flatMap({ try? Digest(parsing: $0) }),
               let size = response.contentLength, let type, reference.digest == nil || reference.digest == digest {
                return Descriptor(mediaType: type, digest: digest, size: size)
            }
            // No usable headers: fetch and hash the manifest itself.
            let fetched = try ManifestFetcher(client: client, repository: reference.repository)
                .fetch(target, expectedDigest: reference.digest)
            return fetched.descriptor
        } catch let error as RegistryError {
            throw error.within(operation)
        }
    }

    // MARK: Login

    /// Checks `credentials` against `registry` (GET /v2/ with Basic or a token obtained
    /// with them). Throws `.unauthorized` when they are refused. Stores nothing.
    public func verifyLogin(registry: String, credentials: Credentials) throws {
        let operation = "log in to \(registry)"
        do {
            let endpoint = try origin(registry)
            let authenticator = Authenticator(authority: registry, credentials: StaticCredentials([registry: credentials]),
                                              configuration: configuration)
            let client = EndpointClient(endpoint: endpoint, http: http, authenticator: authenticator, configuration: configuration)
            // A registry without authentication answers 200 at once; docker accepts that too.
            let response = try client.send(HTTPRequest("GET", try client.url("")), scopes: [], handling: .buffer(limit: configuration.limits.errorBody),
                                           deadline: configuration.timeouts.document, retry: true, operation: "GET /v2/")
            guard response.status == 200 else {
                if response.status == 401 {
                    throw RegistryError(.unauthorized, "", "the registry refused the credentials (HTTP 401)")
                }
                throw Retrying.statusError(response)
            }
        } catch let error as RegistryError {
            throw error.within(operation)
        }
    }

    // MARK: Plumbing

    func origin(_ registry: String) throws -> RegistryHosts.Endpoint {
        guard let endpoint = try configuration.hosts.endpoints(for: registry, pull: false).last else {
            throw RegistryError(.configuration, "registry \(registry)", "no endpoint")
        }
        return endpoint
    }

    func client(for endpoint: RegistryHosts.Endpoint) -> EndpointClient {
        lock.lock()
        defer { lock.unlock() }
        let key = endpoint.base.absoluteString
        let authenticator = authenticators[key] ?? Authenticator(authority: endpoint.authority, credentials: configuration.credentials,
                                                                 configuration: configuration)
        authenticators[key] = authenticator
        return EndpointClient(endpoint: endpoint, http: http, authenticator: authenticator, configuration: configuration)
    }

    func pusher(for reference: Reference, store: ImageStore?, progress: TransferProgress?) throws -> Pusher {
        let endpoint = try origin(reference.registry)
        return Pusher(client: client(for: endpoint), repository: reference.repository, store: store, progress: progress)
    }

    func tagOrDigest(_ reference: Reference, digest: Digest) throws -> String {
        if let pinned = reference.digest {
            guard pinned == digest else {
                throw RegistryError(.digestMismatch, "", "the reference pins \(pinned), but the manifest is \(digest)")
            }
            return reference.tag ?? pinned.description
        }
        return reference.tag ?? Reference.defaultTag
    }

    /// Repositories of `registry` in which the store's images say each blob already is.
    private func mountSources(for blobs: [Descriptor], registry: String, excluding repository: String, store: ImageStore) -> [Digest: [String]] {
        let wanted = Set(blobs.map(\.digest))
        var sources: [Digest: [String]] = [:]
        for image in (try? store.images()) ?? [] {
            guard let name = try? Reference(parsing: image.name), name.registry == registry, name.repository != repository else { continue }
            for blob in [image.manifest.config] + image.manifest.layers where wanted.contains(blob.digest) {
                if !(sources[blob.digest] ?? []).contains(name.repository) { sources[blob.digest, default: []].append(name.repository) }
            }
        }
        return sources
    }
}
