import DevenvOCI
import Foundation

/// Where a registry name is reached: its scheme, mirrors, and the plain-HTTP policy.
///
/// Plain HTTP is used only for loopback registries (127.0.0.0/8, ::1, localhost) and for
/// registries listed as insecure; everything else is HTTPS. Configuration comes from
/// `registries.json` (in `$DEVENV_CONFIG_DIR`, else `$XDG_CONFIG_HOME/devenv`, else
/// `~/.config/devenv`) and `DEVENV_INSECURE_REGISTRIES` (comma-separated host[:port]):
///
///     {"insecure": ["registry.lan:5000"],
///      "mirrors": {"docker.io": ["https://mirror.example"]}}
public struct RegistryHosts: Sendable, Equatable {
    public var insecure: Set<String>
    /// Registry name (as in a reference: `docker.io`, `ghcr.io`) to mirror base URLs, tried
    /// in order before the registry itself when pulling.
    public var mirrors: [String: [URL]]

    public init(insecure: Set<String> = [], mirrors: [String: [URL]] = [:]) {
        self.insecure = insecure
        self.mirrors = mirrors
    }

    /// Docker Hub's API host for the `docker.io` name.
    public static let dockerHubAPI = "registry-1.docker.io"

    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// `scheme://host[:port][/prefix]`; API paths are appended (`/v2/...`).
        public var base: URL
        /// `host[:port]`, the key for credentials and for "same origin" decisions.
        public var authority: String
        public var isMirror: Bool

        public var description: String { base.absoluteString }
    }

    /// Endpoints to try, in order: for pulls the mirrors first, then the registry.
    public func endpoints(for registry: String, pull: Bool) throws -> [Endpoint] {
        var result: [Endpoint] = []
        if pull {
            for mirror in mirrors[registry] ?? [] {
                result.append(try endpoint(mirror: mirror, registry: registry))
            }
        }
        let host = registry == Reference.defaultRegistry ? Self.dockerHubAPI : registry
        let scheme = allowsPlainHTTP(host) || allowsPlainHTTP(registry) ? "http" : "https"
        guard let base = URL(string: "\(scheme)://\(host)") else {
            throw RegistryError(.configuration, "registry \(Printable.escape(registry))", "not a valid host name")
        }
        result.append(Endpoint(base: base, authority: registry, isMirror: false))
        return result
    }

    private func endpoint(mirror: URL, registry: String) throws -> Endpoint {
        let operation = "mirror \(Printable.escape(mirror.absoluteString)) for \(registry)"
        guard let scheme = mirror.scheme?.lowercased(), scheme == "https" || scheme == "http", let host = mirror.host else {
            throw RegistryError(.configuration, operation, "a mirror must be an http(s) URL with a host")
        }
        let authority = mirror.port.map { "\(Self.bracketed(host)):\($0)" } ?? Self.bracketed(host)
        if scheme == "http" && !allowsPlainHTTP(authority) {
            throw RegistryError(.insecure, operation, "plain HTTP is only used for loopback or insecure-listed registries; add '\(authority)' to \"insecure\" in registries.json")
        }
        var text = mirror.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix("/v2") { text.removeLast(3) }
        guard let base = URL(string: text) else { throw RegistryError(.configuration, operation, "not a valid URL") }
        return Endpoint(base: base, authority: authority, isMirror: true)
    }

    /// Whether `authority` (host[:port]) may be spoken to without TLS.
    public func allowsPlainHTTP(_ authority: String) -> Bool {
        if insecure.contains(authority) { return true }
        let host = Self.hostPart(of: authority)
        if insecure.contains(host) { return true }
        return Self.isLoopback(host)
    }

    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0)! <= 255 }) else {
            return false
        }
        return octets[0] == "127"
    }

    /// `host` from `host`, `host:port`, `[v6]` or `[v6]:port`.
    static func hostPart(of authority: String) -> String {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return authority }
            return String(authority[...close])
        }
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            return String(authority[..<colon])
        }
        return authority
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    // MARK: Loading

    /// `registries.json` from the first configuration directory that has one, plus
    /// `DEVENV_INSECURE_REGISTRIES`. A missing file is an empty configuration.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RegistryHosts {
        var hosts = RegistryHosts()
        if let path = configurationFile(environment: environment),
           let data = try RegistryError.readFile(path, limit: 1 << 20, kind: .configuration) {
            hosts = try parse(data, source: path)
        }
        for entry in (environment["DEVENV_INSECURE_REGISTRIES"] ?? "").split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { hosts.insecure.insert(trimmed) }
        }
        return hosts
    }

    public static func configurationFile(environment: [String: String]) -> String? {
        if let directory = environment["DEVENV_CONFIG_DIR"], !directory.isEmpty { return "\(directory)/registries.json" }
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return "\(xdg)/devenv/registries.json" }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return "\(home)/.config/devenv/registries.json"
    }

    private struct File: Decodable {
        var insecure: [String]?
        var mirrors: [String: [String]]?
    }

    public static func parse(_ data: Data, source: String) throws -> RegistryHosts {
        let operation = "read \(source)"
        guard data.count <= 1 << 20 else { throw RegistryError(.tooLarge, operation, "larger than 1 MiB") }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw RegistryError(.configuration, operation, "expected {\"insecure\": [\"host:port\"], \"mirrors\": {\"docker.io\": [\"https://mirror\"]}} (\(error.localizedDescription))")
        }
        var mirrors: [String: [URL]] = [:]
        for (registry, urls) in file.mirrors ?? [:] {
            mirrors[registry] = try urls.map { text in
                guard let url = URL(string: text), url.host != nil else {
                    throw RegistryError(.configuration, operation, "mirror '\(Printable.escape(text))' for \(Printable.escape(registry)) is not a URL")
                }
                return url
            }
        }
        return RegistryHosts(insecure: Set(file.insecure ?? []), mirrors: mirrors)
    }
}
