import DevenvOCI
import Foundation

/// One HTTP request as the registry code builds it. Header values may hold secrets
/// (Authorization): a request is never printed, only its method and `HTTPMessage.display(url)`.
struct HTTPRequest: Sendable {
    var method: String
    var url: URL
    var headers: [String: String] = [:]
    var body: Data?

    init(_ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

struct HTTPResponse: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    /// The buffered body (documents, tokens, error bodies), empty when streamed.
    var body: Data
    var url: URL
    /// Set when an error body was cut at the error-body limit.
    var truncated = false

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    var isSuccess: Bool { (200..<300).contains(status) }

    var contentLength: Int64? { header("content-length").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } }

    /// The media type without parameters (`application/json; charset=utf-8` -> `application/json`).
    var mediaType: String? {
        guard let value = header("content-type") else { return nil }
        let bare = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return bare.isEmpty ? nil : bare
    }
}

/// Consumes a streamed 2xx body: `begin` sees the status and headers before the first
/// chunk, `consume` each chunk as it arrives. Throwing from either aborts the transfer.
final class BodySink: @unchecked Sendable {
    let begin: (Int, [String: String]) throws -> Void
    let consume: (Data) throws -> Void

    init(begin: @escaping (Int, [String: String]) throws -> Void = { _, _ in }, consume: @escaping (Data) throws -> Void) {
        self.begin = begin
        self.consume = consume
    }
}

enum BodyHandling: Sendable {
    /// Kept in memory; a 2xx body over `limit` bytes is an error.
    case buffer(limit: Int)
    /// 2xx bodies go to the sink as they arrive; other statuses are buffered (truncated).
    case stream(BodySink)
}

/// A flag that stops every transfer that watches it, e.g. when one layer of a pull fails.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: RegistryError?

    func cancel(_ error: RegistryError) {
        lock.lock()
        if reason == nil { reason = error }
        lock.unlock()
    }

    var error: RegistryError? {
        lock.lock()
        defer { lock.unlock() }
        return reason
    }
}

enum HTTPMessage {
    /// A URL safe to print: no query (presigned storage URLs carry signatures there), no
    /// user info, no fragment.
    static func display(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<url>" }
        components.query = nil
        components.fragment = nil
        components.user = nil
        components.password = nil
        return components.string ?? "<url>"
    }

    /// Seconds from a Retry-After value: delta-seconds or an HTTP date.
    static func retryAfter(_ value: String?, now: Date = Date()) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int64(value) { return seconds < 0 ? nil : TimeInterval(seconds) }
        guard let date = HTTPDate.parse(value) else { return nil }
        return max(0, TimeInterval(date) - now.timeIntervalSince1970)
    }

    /// A registry error body made printable: the OCI `errors` list when there is one,
    /// else the text; credentials redacted before it is cut to `limit` (so no cut-off
    /// secret escapes the patterns), then escaped.
    static func describeErrorBody(_ body: Data, limit: Int = 300) -> String {
        struct Envelope: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        if let envelope = try? JSONDecoder().decode(Envelope.self, from: body), let errors = envelope.errors, !errors.isEmpty {
            let text = errors.prefix(3).map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
            return Printable.escape(RegistrySecrets.redact(text), limit: limit)
        }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Printable.escape(RegistrySecrets.redact(text), limit: limit)
    }
}
