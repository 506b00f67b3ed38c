import DevenvOCI
import Foundation

/// A manifest or index as fetched: its exact bytes, the descriptor computed from them,
/// and the parsed document.
struct FetchedManifest {
    var data: Data
    var descriptor: Descriptor
    var document: OCIDocument.Parsed
}

/// Fetches and verifies manifests.
struct ManifestFetcher {
    let client: EndpointClient
    let repository: String

    static let acceptedTypes = [MediaType.imageManifest, MediaType.imageIndex, MediaType.dockerManifest, MediaType.dockerManifestList]

    /// GETs `reference` (a tag or a digest). The bytes must hash to `expected` when the
    /// caller knows the digest; with a tag, the computed digest is the truth and a
    /// Docker-Content-Digest header that disagrees with it is an error.
    func fetch(_ reference: String, expected: Descriptor? = nil, expectedDigest: Digest? = nil) throws -> FetchedManifest {
        let operation = "GET manifest \(repository):\(reference)"
        let (data, actual, transportType) = try fetchVerified(reference, accept: Self.acceptedTypes, expected: expected, expectedDigest: expectedDigest)
        let declared = expected?.mediaType ?? transportType
        try Self.refuseForeignLayers(data, operation: operation)
        let document = try RegistryError.wrap(operation) { try OCIDocument.parse(data, declaredType: declared) }
        let mediaType: String
        switch document {
        case let .manifest(manifest): mediaType = manifest.mediaType ?? declared ?? MediaType.imageManifest
        case let .index(index): mediaType = index.mediaType ?? declared ?? MediaType.imageIndex
        }
        return FetchedManifest(data: data, descriptor: Descriptor(mediaType: mediaType, digest: actual, size: Int64(data.count)), document: document)
    }

    /// The manifest's bytes, checked against the digest the caller or the registry names,
    /// and the media type the response declared (one of `accept`), not yet parsed.
    func fetchVerified(_ reference: String, accept: [String], expected: Descriptor? = nil, expectedDigest: Digest? = nil) throws -> (Data, Digest, String?) {
        let operation = "GET manifest \(repository):\(reference)"
        let url = try client.url("\(repository)/manifests/\(reference)")
        let request = HTTPRequest("GET", url, headers: ["Accept": accept.joined(separator: ", ")])
        let limits = client.configuration.limits
        let response = try client.send(request, scopes: ["repository:\(repository):pull"], handling: .buffer(limit: limits.document),
                                       deadline: client.configuration.timeouts.document, retry: true, operation: operation)
        switch response.status {
        case 200:
            break
        case 404:
            throw RegistryError(.notFound, operation, "manifest unknown (HTTP 404): \(HTTPMessage.describeErrorBody(response.body))")
        default:
            throw Retrying.statusError(response, operation: operation)
        }
        let data = response.body
        let wanted = expectedDigest ?? expected?.digest
        var hasher = DigestHasher(wanted?.algorithm ?? .sha256)
        hasher.update(data)
        let actual = hasher.finalize()
        if let wanted, wanted != actual {
            throw RegistryError(.digestMismatch, operation, "expected digest \(wanted), but the manifest the registry sent hashes to \(actual)")
        }
        if let expected, Int64(data.count) != expected.size {
            throw RegistryError(.digestMismatch, operation, "expected \(expected.size) bytes, the registry sent \(data.count)")
        }
        if wanted == nil, let claimed = response.header("docker-content-digest").flatMap({ try? Digest(parsing: $0) }),
           claimed.algorithm == actual.algorithm, claimed != actual {
            throw RegistryError(.digestMismatch, operation, "the registry says the manifest is \(claimed), but its bytes hash to \(actual)")
        }
        return (data, actual, response.mediaType.flatMap { accept.contains($0) ? $0 : nil })
    }

    /// Non-distributable ("foreign") layers live outside the registry at `urls` devenv does
    /// not fetch; say so instead of a bare "unsupported media type" (A7e).
    static func refuseForeignLayers(_ data: Data, operation: String) throws {
        struct Probe: Decodable {
            struct Layer: Decodable { var mediaType: String?; var digest: String?; var urls: [String]? }
            var layers: [Layer]?
        }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: data) else { return }
        for layer in probe.layers ?? [] {
            let type = layer.mediaType ?? ""
            if type.contains("nondistributable") || type.contains(".foreign.") {
                let urls = (layer.urls ?? []).prefix(2).map { Printable.escape($0, limit: 120) }.joined(separator: ", ")
                throw RegistryError(.refused, operation, "layer \(Printable.escape(layer.digest ?? "?", limit: 80)) is non-distributable (\(Printable.escape(type, limit: 120)))\(urls.isEmpty ? "" : " with urls \(urls)"); devenv does not download foreign layers")
            }
        }
    }
}
