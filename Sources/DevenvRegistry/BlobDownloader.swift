import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Downloads one blob into the store's ingest area and commits it only when its size and
/// digest match the descriptor.
///
/// The ingest is keyed by digest and survives the process (ContentStore.resumableWriter):
/// bytes an interrupted pull left behind are re-hashed and the download continues after
/// them with a `Range` request; a concurrent pull of the same blob waits for this one. A
/// resumed partial with wrong bytes fails the digest check at the end and is discarded.
///
/// The body streams to the ingest file as it arrives (HTTPClient reads no faster than the
/// file takes it) and may not exceed the descriptor's size: the byte after it ends the
/// transfer with an error naming the blob, its declared size and the registry, as does a
/// Content-Length or Content-Range that disagrees with it, before any byte is read (issue 11).
/// After a dropped connection or timeout the next request resumes at the first missing
/// byte with the same ingest file and hash state; a server that ignores `Range` (200)
/// is read from zero into a fresh ingest file (A2). Failed attempts per blob are bounded.
struct BlobDownloader {
    let client: EndpointClient
    let repository: String
    let store: ImageStore
    let cancellation: CancellationFlag
    let progress: TransferProgress?

    private var configuration: RegistryConfiguration { client.configuration }

    /// State shared between the caller and the body sink (which runs on the HTTP queue
    /// while the caller waits for the request to finish).
    private final class Ingest: @unchecked Sendable {
        var writer: BlobWriter
        var offset: Int64 = 0
        var lastReported: Int64 = 0

        init(writer: BlobWriter) { self.writer = writer }
    }

    /// Downloads the blob unless the store has it. `unpack`, if given, may start unpacking
    /// the blob while it downloads (it follows the ingest file); the returned handle must
    /// be finished by the caller, with whether the blob was verified.
    @discardableResult
    func download(_ descriptor: Descriptor, kind: String,
                  unpack: ((GrowingFile) -> StreamingUnpack?)? = nil) throws -> StreamingUnpack? {
        let operation = "GET \(kind) \(descriptor.digest)"
        let size = descriptor.size
        guard size >= 0 else { throw RegistryError(.refused, operation, "negative size \(size)") }
        guard size <= configuration.limits.blob else {
            throw RegistryError(.tooLarge, operation, "declared size \(size) is over devenv's limit of \(configuration.limits.blob) bytes")
        }
        let opened = try RegistryError.wrap(operation) {
            try store.content.resumableWriter(for: descriptor.digest, size: size) { [progress] in progress?(.sharing(descriptor)) }
        }
        guard let writer = opened else {
            // Another pull stored it while we waited for its ingest lock.
            progress?(.skipped(descriptor, .present))
            return nil
        }
        let ingest = Ingest(writer: writer)
        ingest.offset = writer.bytesWritten
        let url = try client.url("\(repository)/blobs/\(descriptor.digest)")
        var streaming: StreamingUnpack?
        if let unpack {
            let growing = GrowingFile(path: writer.ingestPath)
            writer.follower = growing
            streaming = unpack(growing)
            if streaming == nil { writer.follower = nil }
        }
        var committed = false
        defer {
            if !committed { streaming?.finish(blobVerified: false) }
        }
        progress?(.started(descriptor))
        if ingest.offset > 0 { progress?(.progress(descriptor, completed: ingest.offset)) }
        var failures = 0
        while ingest.offset < size {
            if let stop = cancellation.error {
                throw stop.kind == .cancelled ? stop : RegistryError(.cancelled, operation, "stopped because \(stop.description)")
            }
            var request = HTTPRequest("GET", url, headers: ["Accept-Encoding": "identity"])
            if ingest.offset > 0 { request.headers["Range"] = "bytes=\(ingest.offset)-\(size - 1)" }
            let sink = makeSink(ingest: ingest, descriptor: descriptor, operation: operation)
            let failure: RegistryError
            do {
                let response = try client.send(request, scopes: ["repository:\(repository):pull"], handling: .stream(sink),
                                               retry: false, cancellation: cancellation, operation: operation)
                if response.isSuccess {
                    if ingest.offset == size { break }
                    failure = RegistryError(.transport, operation, "the response ended after \(ingest.offset) of \(size) bytes", retryable: true)
                } else {
                    failure = try classify(response, operation: operation)
                }
            } catch let error as RegistryError where error.retryable {
                failure = error
            }
            failures += 1
            guard failures < configuration.retry.maxAttempts else {
                throw RegistryError(failure.kind, operation,
                                    "gave up after \(failures) failed attempts with \(ingest.offset) of \(size) bytes received; nothing was stored, the partial download is kept for the next pull to resume (last error: \(failure.reason))")
            }
            progress?(.retrying(descriptor, attempt: failures + 1, reason: failure.reason))
            try Retrying.pause(configuration.retry.delay(attempt: failures, retryAfter: failure.retryAfter), cancellation: cancellation)
        }
        try RegistryError.wrap(operation) {
            try ingest.writer.commit(expected: descriptor.digest, size: size, context: "pull \(kind) \(descriptor.digest)")
        }
        committed = true
        progress?(.progress(descriptor, completed: size))
        progress?(.finished(descriptor))
        return streaming
    }

    /// Turns a non-2xx blob response into a retryable failure or throws a final error.
    private func classify(_ response: HTTPResponse, operation: String) throws -> RegistryError {
        switch response.status {
        case 404:
            throw RegistryError(.notFound, operation, "the registry has no such blob in \(repository) (HTTP 404)")
        case 416:
            throw RegistryError(.invalidContent, operation, "HTTP 416 range not satisfiable: the registry's blob is shorter than the descriptor says")
        default:
            let error = Retrying.statusError(response, operation: operation)
            guard error.retryable else { throw error }
            return error
        }
    }

    private func makeSink(ingest: Ingest, descriptor: Descriptor, operation: String) -> BodySink {
        let size = descriptor.size
        let progress = self.progress
        let registry = client.endpoint.authority
        return BodySink(begin: { status, headers in
            if status == 206 {
                let (start, total) = try Self.parseContentRange(headers["content-range"], operation: operation)
                guard start == ingest.offset else {
                    throw RegistryError(.invalidContent, operation, "asked for bytes from \(ingest.offset), the registry sent from \(start)")
                }
                if let total, total != size {
                    throw RegistryError(.digestMismatch, operation, "\(registry) says blob \(descriptor.digest) is \(total) bytes, its descriptor declares \(size); nothing was read")
                }
            } else {
                if ingest.offset > 0 {
                    // The server ignored Range: start the ingest file over.
                    try RegistryError.wrap(operation) { try ingest.writer.restart() }
                    ingest.offset = 0
                }
                if let length = headers["content-length"].flatMap({ Int64($0) }), length != size {
                    throw RegistryError(.digestMismatch, operation, "\(registry) sends blob \(descriptor.digest) as \(length) bytes, its descriptor declares \(size); nothing was read")
                }
            }
        }, consume: { data in
            guard ingest.offset + Int64(data.count) <= size else {
                throw RegistryError(.digestMismatch, operation, "\(registry) sent more than the \(size) bytes blob \(descriptor.digest) declares; stopped reading at byte \(size + 1)")
            }
            try RegistryError.wrap(operation) { try ingest.writer.write(data) }
            ingest.offset += Int64(data.count)
            if let progress, ingest.offset - ingest.lastReported >= 256 << 10 {
                ingest.lastReported = ingest.offset
                progress(.progress(descriptor, completed: ingest.offset))
            }
        })
    }

    /// `bytes START-END/TOTAL` (TOTAL may be `*`).
    static func parseContentRange(_ value: String?, operation: String) throws -> (start: Int64, total: Int64?) {
        guard let value, value.hasPrefix("bytes ") else {
            throw RegistryError(.invalidContent, operation, "HTTP 206 without a valid Content-Range header")
        }
        let spec = value.dropFirst("bytes ".count)
        let parts = spec.split(separator: "/", maxSplits: 1)
        let range = parts.first?.split(separator: "-", maxSplits: 1) ?? []
        guard range.count == 2, let start = Int64(range[0].trimmingCharacters(in: .whitespaces)), start >= 0 else {
            throw RegistryError(.invalidContent, operation, "unparsable Content-Range \(Printable.escape(value, limit: 80))")
        }
        let total = parts.count == 2 ? Int64(parts[1].trimmingCharacters(in: .whitespaces)) : nil
        return (start, total)
    }
}
