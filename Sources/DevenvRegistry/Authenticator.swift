import DevenvOCI
import Foundation

/// Authorization for one registry endpoint: anonymous, Basic, or Bearer tokens obtained
/// through the `WWW-Authenticate` challenge (distribution token spec), cached per scope.
/// Credentials are loaded once, on the first challenge that needs them.
final class Authenticator: @unchecked Sendable {
    private enum Scheme {
        case basic
        case bearer(realm: URL, service: String?)
    }

    private struct Token {
        var value: String
        var expires: Date
    }

    let authority: String
    private let credentialSource: any CredentialSource
    private let hosts: RegistryHosts
    private let limits: RegistryConfiguration.Limits
    private let timeouts: RegistryConfiguration.Timeouts
    private let retry: RegistryConfiguration.Retry

    private let lock = NSLock()
    /// Held while fetching a token so concurrent layer downloads wait for one fetch.
    private let fetchLock = NSLock()
    private var scheme: Scheme?
    private var tokens: [String: Token] = [:]
    private var credentialsLoaded = false
    private var cachedCredentials: Credentials?

    init(authority: String, credentials: any CredentialSource, configuration: RegistryConfiguration) {
        self.authority = authority
        credentialSource = credentials
        hosts = configuration.hosts
        limits = configuration.limits
        timeouts = configuration.timeouts
        retry = configuration.retry
    }

    /// The Authorization header to send before being challenged, if one is known.
    func authorization(for scopes: [String]) -> String? {
        lock.lock()
        defer { lock.unlock() }
        switch scheme {
        case .none:
            return nil
        case .basic:
            return cachedCredentials?.basicAuthorization
        case .bearer:
            guard let token = tokens[Self.key(scopes)], token.expires > Date() else { return nil }
            return "Bearer \(token.value)"
        }
    }

    /// Answers a 401: parses the challenge and obtains what it asks for. Throws when the
    /// challenge is malformed, credentials are missing or refused, or the token service fails.
    func respond(to response: HTTPResponse, scopes: [String], sent: String?, http: HTTPClient, operation: String) throws {
        guard let header = response.header("www-authenticate") else {
            throw RegistryError(.unauthorized, operation, "HTTP 401 without a WWW-Authenticate challenge")
        }
        let challenges: [AuthChallenge]
        do {
            challenges = try AuthChallenge.parse(header)
        } catch let AuthChallenge.ParseError.malformed(reason) {
            throw RegistryError(.invalidContent, operation, "malformed WWW-Authenticate header (\(reason)): \(Printable.escape(header, limit: 200))")
        }
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            try answerBearer(bearer, scopes: scopes, sent: sent, http: http, operation: operation)
        } else if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials = try credentials() else {
                throw RegistryError(.unauthorized, operation, "the registry requires a login; run `devenv login \(authority)`")
            }
            _ = credentials
            lock.lock()
            scheme = .basic
            lock.unlock()
        } else {
            let names = challenges.map(\.scheme).joined(separator: ", ")
            throw RegistryError(.unauthorized, operation, "unsupported authentication scheme(s): \(Printable.escape(names))")
        }
    }

    /// Whether Basic credentials were already sent (a second 401 then means they are wrong).
    var usesBasic: Bool {
        lock.lock()
        defer { lock.unlock() }
        if case .basic = scheme { return true }
        return false
    }

    private func credentials() throws -> Credentials? {
        lock.lock()
        if credentialsLoaded {
            defer { lock.unlock() }
            return cachedCredentials
        }
        lock.unlock()
        let loaded = try credentialSource.credentials(for: authority)
        if let loaded {
            RegistrySecrets.remember(secret: loaded.secret)
            RegistrySecrets.remember(authorization: loaded.basicAuthorization)
        }
        lock.lock()
        credentialsLoaded = true
        cachedCredentials = loaded
        lock.unlock()
        return loaded
    }

    private func answerBearer(_ challenge: AuthChallenge, scopes: [String], sent: String?, http: HTTPClient, operation: String) throws {
        guard let realmText = challenge.parameters["realm"], let realm = URL(string: realmText),
              let realmScheme = realm.scheme?.lowercased(), realmScheme == "https" || realmScheme == "http", let realmHost = realm.host else {
            throw RegistryError(.invalidContent, operation, "the Bearer challenge has no usable realm URL")
        }
        let realmAuthority = realm.port.map { "\(realmHost):\($0)" } ?? realmHost
        if realmScheme == "http" && !hosts.allowsPlainHTTP(realmAuthority) {
            throw RegistryError(.insecure, operation, "the token service \(HTTPMessage.display(realm)) is plain HTTP; refusing to use it for a registry that is not loopback or insecure-listed")
        }
        var wanted = scopes
        for scope in (challenge.parameters["scope"] ?? "").split(separator: " ").map(String.init) where !Self.covered(scope, by: wanted) {
            wanted.append(scope)
        }
        let service = challenge.parameters["service"]
        fetchLock.lock()
        defer { fetchLock.unlock() }
        // Another thread may have fetched a fresh token while this one waited.
        if let current = authorization(for: scopes), current != sent { return }
        let token = try fetchToken(realm: realm, service: service, scopes: wanted, http: http, operation: operation)
        lock.lock()
        scheme = .bearer(realm: realm, service: service)
        tokens[Self.key(scopes)] = token
        if wanted != scopes { tokens[Self.key(wanted)] = token }
        lock.unlock()
    }

    private struct TokenReply: Decodable {
        var token: String?
        var access_token: String?
        var expires_in: Int?
    }

    private func fetchToken(realm: URL, service: String?, scopes: [String], http: HTTPClient, operation: String) throws -> Token {
        let credentials = try self.credentials()
        let tokenOperation = "\(operation): get a token from \(HTTPMessage.display(realm))"
        var request: HTTPRequest
        if let credentials, credentials.isIdentityToken {
            // OAuth2 refresh-token grant (what `docker login` stores as identitytoken).
            var form = URLComponents()
            form.queryItems = [URLQueryItem(name: "grant_type", value: "refresh_token"),
                               URLQueryItem(name: "refresh_token", value: credentials.secret),
                               URLQueryItem(name: "client_id", value: "devenv"),
                               URLQueryItem(name: "scope", value: scopes.joined(separator: " "))]
            if let service { form.queryItems?.append(URLQueryItem(name: "service", value: service)) }
            let body = Data((form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8)
            request = HTTPRequest("POST", realm, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: body)
        } else {
            guard var components = URLComponents(url: realm, resolvingAgainstBaseURL: false) else {
                throw RegistryError(.invalidContent, tokenOperation, "the realm is not a valid URL")
            }
            var items = components.queryItems ?? []
            if let service { items.append(URLQueryItem(name: "service", value: service)) }
            for scope in scopes { items.append(URLQueryItem(name: "scope", value: scope)) }
            if let credentials { items.append(URLQueryItem(name: "account", value: credentials.username)) }
            components.queryItems = items
            guard let url = components.url else { throw RegistryError(.invalidContent, tokenOperation, "cannot build the token URL") }
            request = HTTPRequest("GET", url)
            if let credentials { request.headers["Authorization"] = credentials.basicAuthorization }
        }
        let response = try Retrying.run(attempts: min(retry.maxAttempts, 3), policy: retry, cancellation: nil) {
            try http.send(request, handling: .buffer(limit: limits.token), deadline: timeouts.document)
        }
        switch response.status {
        case 200:
            break
        case 401, 403:
            let who = credentials == nil ? "anonymous access" : "the credentials for \(authority)"
            throw RegistryError(.unauthorized, tokenOperation, "the token service refused \(who) (HTTP \(response.status)): \(HTTPMessage.describeErrorBody(response.body))")
        default:
            throw RegistryError(.http(response.status), tokenOperation, "HTTP \(response.status): \(HTTPMessage.describeErrorBody(response.body))")
        }
        guard let reply = try? JSONDecoder().decode(TokenReply.self, from: response.body),
              let value = reply.token ?? reply.access_token, !value.isEmpty else {
            throw RegistryError(.invalidContent, tokenOperation, "the reply has no token")
        }
        // Visible ASCII only: anything else could split or inject header lines.
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw RegistryError(.invalidContent, tokenOperation, "the token holds characters not allowed in an HTTP header")
        }
        RegistrySecrets.remember(secret: value)
        let lifetime = TimeInterval(max(reply.expires_in ?? 60, 60))
        return Token(value: value, expires: Date().addingTimeInterval(lifetime - 10))
    }

    private static func key(_ scopes: [String]) -> String { scopes.sorted().joined(separator: " ") }

    /// Whether `scope` (`repository:NAME:pull`) asks for nothing beyond `scopes`.
    static func covered(_ scope: String, by scopes: [String]) -> Bool {
        let parts = scope.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return scopes.contains(scope) }
        let wanted = Set(parts[2].split(separator: ","))
        return scopes.contains { other in
            let otherParts = other.split(separator: ":", omittingEmptySubsequences: false)
            return otherParts.count == 3 && otherParts[0] == parts[0] && otherParts[1] == parts[1]
                && wanted.isSubset(of: Set(otherParts[2].split(separator: ",")))
        }
    }
}
