import DevenvOCI
import DevenvStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Pushes blobs and manifests to one repository: blobs the registry has are skipped
/// (HEAD), blobs known to be in another repository of the same registry are mounted,
/// small blobs go up in one PUT, large ones in PATCH chunks; the manifest last, with its
/// exact bytes.
struct Pusher {
    let client: EndpointClient
    let repository: String
    /// Where blobs are read from; not needed to push a manifest alone.
    let store: ImageStore?
    let progress: TransferProgress?

    private var configuration: RegistryConfiguration { client.configuration }
    private var pushScope: String { "repository:\(repository):pull,push" }

    /// Pushes `blobs` (each at most once), trying a mount from `mountSources[digest]`.
    func pushBlobs(_ blobs: [Descriptor], mountSources: [Digest: [String]]) throws {
        var seen = Set<Digest>()
        let unique = blobs.filter { seen.insert($0.digest).inserted }
        let cancellation = CancellationFlag()
        try Concurrently.forEach(unique, width: configuration.concurrency, cancellation: cancellation) { blob in
            try pushBlob(blob, mountFrom: mountSources[blob.digest] ?? [], cancellation: cancellation)
        }
    }

    private func pushBlob(_ blob: Descriptor, mountFrom sources: [String], cancellation: CancellationFlag) throws {
        let operation = "push blob \(blob.digest)"
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try pushBlobOnce(blob, mountFrom: sources, cancellation: cancellation, operation: operation)
            } catch let error as RegistryError where error.retryable && attempt < configuration.retry.maxAttempts {
                progress?(.retrying(blob, attempt: attempt + 1, reason: error.reason))
                try Retrying.pause(configuration.retry.delay(attempt: attempt, retryAfter: error.retryAfter), cancellation: cancellation)
            }
        }
    }

    private func pushBlobOnce(_ blob: Descriptor, mountFrom sources: [String], cancellation: CancellationFlag, operation: String) throws {
        if try registryHas(blob, cancellation: cancellation, operation: operation) {
            progress?(.skipped(blob, .present))
            return
        }
        var session: URL?
        for source in sources where source != repository {
            let url = try client.url("\(repository)/blobs/uploads/", query: [URLQueryItem(name: "mount", value: blob.digest.description),
                                                                              URLQueryItem(name: "from", value: source)])
            let response = try client.send(HTTPRequest("POST", url, headers: ["Content-Length": "0"]),
                                           scopes: [pushScope, "repository:\(source):pull"], handling: .buffer(limit: configuration.limits.errorBody),
                                           deadline: configuration.timeouts.document, retry: false, cancellation: cancellation, operation: operation)
            if response.status == 201 {
                progress?(.skipped(blob, .mounted(from: source)))
                return
            }
            if response.status == 202 {
                // The registry could not mount and opened an ordinary upload instead.
                session = try location(response, operation: operation)
                break
            }
        }
        progress?(.started(blob))
        let start = try session ?? startUpload(cancellation: cancellation, operation: operation)
        guard let store else { throw RegistryError(.store, operation, "no store to read the blob from") }
        let path = store.content.path(for: blob.digest)
        let file = try RegistryError.wrap(operation) { () throws -> FileHandle in
            guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.blobNotFound(blob.digest) }
            return handle
        }
        defer { try? file.close() }
        if blob.size <= configuration.limits.uploadChunk {
            let data = try read(file, count: Int(blob.size), operation: operation)
            try finish(start, blob: blob, body: data, cancellation: cancellation, operation: operation)
        } else {
            var current = start
            var offset: Int64 = 0
            while offset < blob.size {
                let count = Int(min(configuration.limits.uploadChunk, blob.size - offset))
                let data = try read(file, count: count, operation: operation)
                let request = HTTPRequest("PATCH", current, headers: ["Content-Type": "application/octet-stream",
                                                                     "Content-Range": "\(offset)-\(offset + Int64(count) - 1)",
                                                                     "Content-Length": String(count)], body: data)
                let response = try client.send(request, scopes: [pushScope], handling: .buffer(limit: configuration.limits.errorBody),
                                               retry: false, cancellation: cancellation, operation: operation)
                guard response.status == 202 else { throw failure(response, operation: "\(operation): PATCH chunk at \(offset)") }
                current = try location(response, operation: operation)
                offset += Int64(count)
                progress?(.progress(blob, completed: offset))
            }
            try finish(current, blob: blob, body: nil, cancellation: cancellation, operation: operation)
        }
        progress?(.progress(blob, completed: blob.size))
        progress?(.finished(blob))
    }

    private func registryHas(_ blob: Descriptor, cancellation: CancellationFlag, operation: String) throws -> Bool {
        let url = try client.url("\(repository)/blobs/\(blob.digest)")
        let response = try client.send(HTTPRequest("HEAD", url), scopes: [pushScope], handling: .buffer(limit: configuration.limits.errorBody),
                                       deadline: configuration.timeouts.document, retry: true, cancellation: cancellation, operation: operation)
        switch response.status {
        case 200: return response.contentLength.map { $0 == blob.size } ?? true
        case 404: return false
        default: throw failure(response, operation: "\(operation): HEAD")
        }
    }

    private func startUpload(cancellation: CancellationFlag, operation: String) throws -> URL {
        let url = try client.url("\(repository)/blobs/uploads/")
        let response = try client.send(HTTPRequest("POST", url, headers: ["Content-Length": "0"]), scopes: [pushScope],
                                       handling: .buffer(limit: configuration.limits.errorBody), deadline: configuration.timeouts.document,
                                       retry: true, cancellation: cancellation, operation: operation)
        guard response.status == 202 else { throw failure(response, operation: "\(operation): start upload") }
        return try location(response, operation: operation)
    }

    /// The closing PUT `?digest=`, with the whole blob (monolithic) or nothing (after PATCHes).
    private func finish(_ session: URL, blob: Descriptor, body: Data?, cancellation: CancellationFlag, operation: String) throws {
        guard var components = URLComponents(url: session, resolvingAgainstBaseURL: false) else {
            throw RegistryError(.invalidContent, operation, "unusable upload location")
        }
        let digestItem = "digest=" + blob.digest.description.replacingOccurrences(of: ":", with: "%3A")
        components.percentEncodedQuery = components.percentEncodedQuery.map { "\($0)&\(digestItem)" } ?? digestItem
        guard let url = components.url else { throw RegistryError(.invalidContent, operation, "unusable upload location") }
        var headers = ["Content-Length": String(body?.count ?? 0)]
        if body != nil { headers["Content-Type"] = "application/octet-stream" }
        let response = try client.send(HTTPRequest("PUT", url, headers: headers, body: body ?? Data()), scopes: [pushScope],
                                       handling: .buffer(limit: configuration.limits.errorBody), retry: false,
                                       cancellation: cancellation, operation: operation)
        guard response.status == 201 || response.status == 204 else { throw failure(response, operation: "\(operation): PUT") }
    }

    /// PUTs a manifest or index under `tagOrDigest` and returns the digest of its bytes.
    func pushManifest(_ data: Data, mediaType: String, tagOrDigest: String) throws -> Digest {
        let digest = Digest.sha256(data)
        let operation = "push manifest \(repository):\(tagOrDigest)"
        let url = try client.url("\(repository)/manifests/\(tagOrDigest)")
        let request = HTTPRequest("PUT", url, headers: ["Content-Type": mediaType, "Content-Length": String(data.count)], body: data)
        let response = try client.send(request, scopes: [pushScope], handling: .buffer(limit: configuration.limits.errorBody),
                                       deadline: configuration.timeouts.document, retry: true, operation: operation)
        guard response.status == 201 || response.status == 200 || response.status == 204 else {
            throw failure(response, operation: operation)
        }
        if let claimed = response.header("docker-content-digest").flatMap({ try? Digest(parsing: $0) }),
           claimed.algorithm == digest.algorithm, claimed != digest {
            throw RegistryError(.digestMismatch, operation, "the registry stored the manifest as \(claimed), but its bytes hash to \(digest)")
        }
        return digest
    }

    private func location(_ response: HTTPResponse, operation: String) throws -> URL {
        guard let value = response.header("location"), let url = URL(string: value, relativeTo: response.url)?.absoluteURL,
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw RegistryError(.invalidContent, operation, "the registry's upload response has no usable Location header")
        }
        return url
    }

    private func read(_ file: FileHandle, count: Int, operation: String) throws -> Data {
        let data: Data
        do {
            data = try file.read(upToCount: count) ?? Data()
        } catch {
            throw RegistryError(.store, operation, "read blob: \(error.localizedDescription)")
        }
        guard data.count == count else { throw RegistryError(.store, operation, "the stored blob is shorter than its descriptor") }
        return data
    }

    private func failure(_ response: HTTPResponse, operation: String) -> RegistryError {
        if response.status == 404 {
            return RegistryError(.notFound, operation, "HTTP 404: \(HTTPMessage.describeErrorBody(response.body))")
        }
        return Retrying.statusError(response, operation: operation)
    }
}
