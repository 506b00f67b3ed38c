import DevenvOCI
import Foundation

/// One file fetched from a plain http(s) URL, as a Dockerfile's `ADD <url>` needs it.
public struct URLDownload: Sendable, Equatable, Codable {
    public var digest: Digest
    public var size: Int64
    /// The `Last-Modified` header as sent, if any (BuildKit gives the file that mtime).
    public var lastModified: String?
    /// The `ETag` header as sent, if any: what a later download revalidates with.
    public var etag: String?

    public init(digest: Digest, size: Int64, lastModified: String? = nil, etag: String? = nil) {
        self.digest = digest
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
    }

    /// `lastModified` in seconds since the epoch, when it is an HTTP date.
    public var modified: Int64? { lastModified.flatMap(HTTPDate.parse) }
}

extension RegistryClient {
    /// Redirects followed for a download, as curl's and Go's clients do by default.
    static let maxRedirects = 10

    /// Which URLs a download may fetch, the first one and every redirect alike.
    public enum URLRule: Sendable {
        /// http and https anywhere, as a Dockerfile's `ADD <url>` fetches.
        case httpOrHTTPS
        /// https, and plain http only where a registry may use it (loopback or
        /// insecure-listed hosts): for code that a build runs as root, such as a feature.
        case likeARegistry
    }

    /// GETs `url` into `path` (written whole or not at all), following redirects that `rule`
    /// allows, with the configured timeouts, at most `limit` bytes. No credentials are sent.
    /// With `expected`, bytes that hash differently are an error and `path` is left untouched.
    /// With `known` (what `path` holds, from an earlier download that had an ETag), the
    /// request carries `If-None-Match`, and a 304 keeps `path` and returns `known`.
    public func download(_ url: URL, to path: String, expected: Digest?, limit: Int64, rule: URLRule = .httpOrHTTPS,
                         known: URLDownload? = nil) throws -> URLDownload {
        var current = url
        let operation = "download \(HTTPMessage.display(url))"
        let partial = path + ".partial"
        for _ in 0...Self.maxRedirects {
            if let refusal = refusal(of: current, by: rule) { throw refusal.error(operation) }
            _ = FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600])
            guard let output = FileHandle(forWritingAtPath: partial) else {
                throw RegistryError(.transport, operation, "cannot write \(partial)")
            }
            defer { try? output.close() }
            var hasher = DigestHasher(.sha256)
            var written: Int64 = 0
            let sink = BodySink(consume: { data in
                written += Int64(data.count)
                guard written <= limit else { throw RegistryError(.tooLarge, operation, "the file is over the limit of \(limit) bytes") }
                hasher.update(data)
                try RegistryError.wrap(operation) { try output.write(contentsOf: data) }
            })
            let response: HTTPResponse
            do {
                var request = HTTPRequest("GET", current)
                if let etag = known?.etag { request.headers["If-None-Match"] = etag }
                response = try http.send(request, handling: .stream(sink))
            } catch var error as RegistryError {
                // Named as the download (the URL asked for), not as the hop's request.
                unlink(partial)
                error.operation = operation
                throw error
            }
            if [301, 302, 303, 307, 308].contains(response.status), let location = response.header("location"),
               let next = URL(string: location, relativeTo: current)?.absoluteURL {
                current = next
                continue
            }
            if response.status == 304, let known, known.etag != nil {
                unlink(partial)
                return known
            }
            guard response.isSuccess else {
                unlink(partial)
                throw RegistryError(response.status == 404 ? .notFound : .http(response.status), operation, "the server answered \(response.status)")
            }
            let digest = hasher.finalize()
            if let expected, expected != digest {
                unlink(partial)
                throw RegistryError(.digestMismatch, operation, "the file's digest is \(digest), --checksum expects \(expected)")
            }
            try RegistryError.wrap(operation) { try output.synchronize() }
            guard rename(partial, path) == 0 else {
                unlink(partial)
                throw RegistryError(.transport, operation, "cannot move the download to \(path): \(String(cString: strerror(errno)))")
            }
            return URLDownload(digest: digest, size: written, lastModified: response.header("last-modified"), etag: response.header("etag"))
        }
        unlink(partial)
        throw RegistryError(.invalidContent, operation, "more than \(Self.maxRedirects) redirects")
    }

    private struct Refusal {
        var kind: RegistryError.Kind
        var reason: String
        func error(_ operation: String) -> RegistryError { RegistryError(kind, operation, reason) }
    }

    private func refusal(of url: URL, by rule: URLRule) -> Refusal? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return Refusal(kind: .invalidContent, reason: "\(HTTPMessage.display(url)) is not http or https")
        }
        guard rule == .likeARegistry, scheme == "http" else { return nil }
        let host = url.host ?? ""
        if configuration.hosts.allowsPlainHTTP(url.port.map { "\(host):\($0)" } ?? host) { return nil }
        return Refusal(kind: .insecure, reason: "\(HTTPMessage.display(url)) is not https (plain http only for loopback or insecure-listed hosts)")
    }
}
