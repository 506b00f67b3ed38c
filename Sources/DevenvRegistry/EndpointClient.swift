import DevenvOCI
import Foundation

/// Requests to one registry endpoint (the registry itself or a mirror) with everything
/// around them: authorization and its bounded 401 rounds (A6c), redirects that never
/// carry credentials to another origin or downgrade to plain HTTP, and retries.
final class EndpointClient: @unchecked Sendable {
    let endpoint: RegistryHosts.Endpoint
    let http: HTTPClient
    let authenticator: Authenticator
    let configuration: RegistryConfiguration

    init(endpoint: RegistryHosts.Endpoint, http: HTTPClient, authenticator: Authenticator, configuration: RegistryConfiguration) {
        self.endpoint = endpoint
        self.http = http
        self.authenticator = authenticator
        self.configuration = configuration
    }

    /// `base/v2/<path>`; `path` is already percent-safe (repository names and digests are).
    func url(_ path: String, query: [URLQueryItem] = []) throws -> URL {
        var text = endpoint.base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        guard var components = URLComponents(string: text + "/v2/" + path) else {
            throw RegistryError(.configuration, "build URL", "invalid path \(Printable.escape(path))")
        }
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url else { throw RegistryError(.configuration, "build URL", "invalid path \(Printable.escape(path))") }
        return url
    }

    /// Sends `request` with authorization for `scopes`. With `retry`, transient failures
    /// and 429/5xx are retried with backoff; streamed downloads pass false and resume
    /// themselves. Any final HTTP status is returned for the caller to interpret, except
    /// a 401 that survives the auth rounds, which throws.
    func send(_ request: HTTPRequest, scopes: [String], handling: BodyHandling, deadline: TimeInterval? = nil,
              retry: Bool, cancellation: CancellationFlag? = nil, operation: String,
              onRetry: (Int, RegistryError) -> Void = { _, _ in }) throws -> HTTPResponse {
        do {
            return try Retrying.run(attempts: retry ? configuration.retry.maxAttempts : 1, policy: configuration.retry,
                                    cancellation: cancellation, onRetry: onRetry) {
                try authorized(request, scopes: scopes, handling: handling, deadline: deadline, cancellation: cancellation, operation: operation)
            }
        } catch let error as RegistryError {
            throw error.operation.isEmpty || !error.operation.hasPrefix(operation) ? error.within(operation) : error
        }
    }

    private func authorized(_ request: HTTPRequest, scopes: [String], handling: BodyHandling, deadline: TimeInterval?,
                            cancellation: CancellationFlag?, operation: String) throws -> HTTPResponse {
        var rounds = 0
        while true {
            var attempt = request
            // Credentials go only to the endpoint's own origin, also for upload Locations.
            if Self.sameOrigin(request.url, endpoint.base), let authorization = authenticator.authorization(for: scopes) {
                attempt.headers["Authorization"] = authorization
            }
            let response = try following(attempt, handling: handling, deadline: deadline, cancellation: cancellation)
            guard response.status == 401 else { return response }
            rounds += 1
            if rounds > configuration.limits.authRounds {
                throw RegistryError(.unauthorized, operation, "the registry still answers HTTP 401 after \(configuration.limits.authRounds) rounds of authentication: the credentials or token are not accepted for \(scopes.joined(separator: " ")) (\(HTTPMessage.describeErrorBody(response.body)))")
            }
            try authenticator.respond(to: response, scopes: scopes, sent: attempt.headers["Authorization"], http: http, operation: operation)
        }
    }

    private static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    private func following(_ request: HTTPRequest, handling: BodyHandling, deadline: TimeInterval?,
                           cancellation: CancellationFlag?) throws -> HTTPResponse {
        var current = request
        var hops = 0
        while true {
            let response = try http.send(current, handling: handling, deadline: deadline, cancellation: cancellation)
            guard Self.redirectStatuses.contains(response.status), let location = response.header("location") else {
                return response
            }
            hops += 1
            let operation = "\(current.method) \(HTTPMessage.display(current.url))"
            guard hops <= configuration.limits.redirects else {
                throw RegistryError(.invalidContent, operation, "more than \(configuration.limits.redirects) redirects")
            }
            guard let next = URL(string: location, relativeTo: current.url)?.absoluteURL,
                  let scheme = next.scheme?.lowercased(), scheme == "http" || scheme == "https", next.host != nil else {
                throw RegistryError(.invalidContent, operation, "redirect to an unusable location \(Printable.escape(location, limit: 200))")
            }
            if current.url.scheme?.lowercased() == "https" && scheme == "http" && !configuration.hosts.allowsPlainHTTP(Self.authority(next)) {
                throw RegistryError(.insecure, operation, "refusing a redirect from HTTPS to plain HTTP (\(HTTPMessage.display(next)))")
            }
            var headers = current.headers
            if !Self.sameOrigin(next, endpoint.base) {
                // Storage redirects (S3, CDNs) must never see the registry's credentials.
                headers["Authorization"] = nil
            }
            if response.status == 303 {
                current = HTTPRequest("GET", next, headers: headers)
            } else {
                current = HTTPRequest(current.method, next, headers: headers, body: current.body)
            }
        }
    }

    static func authority(_ url: URL) -> String {
        let host = url.host ?? ""
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return url.port.map { "\(bracketed):\($0)" } ?? bracketed
    }

    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func port(_ url: URL) -> Int { url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80) }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && port(a) == port(b)
    }
}
