import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Credentials in Docker's client configuration, `$DOCKER_CONFIG/config.json` or
/// `~/.docker/config.json`: `auths` entries (base64 `auth`, or `username`/`password`,
/// or `identitytoken`), per-registry `credHelpers` and the default `credsStore`.
/// `devenv login` writes the same format, so docker, podman and skopeo share it.
public struct DockerCredentialStore: CredentialSource {
    public let configPath: String
    let searchPath: String

    /// Docker Hub's key in `auths`, kept for compatibility with the docker CLI.
    public static let dockerHubKey = "https://index.docker.io/v1/"

    public init(configPath: String, searchPath: String = "/usr/local/bin:/usr/bin:/bin") {
        self.configPath = configPath
        self.searchPath = searchPath
    }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        // Without DOCKER_CONFIG or a resolvable home there is no config file (never `/.docker`).
        let directory: String?
        if let configured = environment["DOCKER_CONFIG"], !configured.isEmpty {
            directory = configured
        } else {
            directory = (try? HostPath.home(environment: environment)).map { "\($0)/.docker" }
        }
        self.init(configPath: directory.map { "\($0)/config.json" } ?? "", searchPath: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
    }

    public func credentials(for registry: String) throws -> Credentials? {
        let config = try load()
        let server = Self.serverKey(for: registry)
        if let helper = try helper(in: config, for: registry), let found = try helper.get(server: server) {
            return found
        }
        guard let auths = config["auths"] as? [String: Any] else { return nil }
        let wanted = Self.normalize(registry)
        for (key, value) in auths.sorted(by: { $0.key < $1.key }) where Self.normalize(key) == wanted {
            if let entry = value as? [String: Any], let credentials = try Self.decode(entry: entry, key: key) {
                return credentials
            }
        }
        return nil
    }

    /// Saves credentials for `registry`: through its credential helper when one is
    /// configured, else in `auths` (file mode 0600, replaced atomically).
    public func store(_ credentials: Credentials, for registry: String) throws {
        var config = try load()
        if let helper = try helper(in: config, for: registry) {
            try helper.store(credentials, server: Self.serverKey(for: registry))
            return
        }
        var auths = config["auths"] as? [String: Any] ?? [:]
        for key in auths.keys where Self.normalize(key) == Self.normalize(registry) { auths[key] = nil }
        if credentials.isIdentityToken {
            auths[Self.serverKey(for: registry)] = ["identitytoken": credentials.secret]
        } else {
            auths[Self.serverKey(for: registry)] = ["auth": Data("\(credentials.username):\(credentials.secret)".utf8).base64EncodedString()]
        }
        config["auths"] = auths
        try save(config)
    }

    /// Removes the credentials for `registry`; returns whether there were any in the file
    /// (a helper's store is always asked to erase).
    @discardableResult
    public func erase(for registry: String) throws -> Bool {
        var config = try load()
        if let helper = try helper(in: config, for: registry) {
            try helper.erase(server: Self.serverKey(for: registry))
        }
        guard var auths = config["auths"] as? [String: Any] else { return false }
        let keys = auths.keys.filter { Self.normalize($0) == Self.normalize(registry) }
        guard !keys.isEmpty else { return false }
        for key in keys { auths[key] = nil }
        config["auths"] = auths
        try save(config)
        return true
    }

    // MARK: Keys

    /// The server string used for `registry` in `auths` and with helpers.
    public static func serverKey(for registry: String) -> String {
        normalize(registry) == Reference.defaultRegistry ? dockerHubKey : registry
    }

    /// The registry name for what a user typed: `https://index.docker.io/v1/` -> `docker.io`,
    /// `http://host:5000/` -> `host:5000`.
    public static func registryName(_ text: String) -> String { normalize(text.trimmingCharacters(in: .whitespaces)) }

    /// `https://index.docker.io/v1/`, `index.docker.io`, `registry-1.docker.io` -> `docker.io`;
    /// `http://host:5000/` -> `host:5000`.
    static func normalize(_ key: String) -> String {
        var text = key
        for prefix in ["https://", "http://"] where text.lowercased().hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        if let slash = text.firstIndex(of: "/") { text = String(text[..<slash]) }
        text = text.lowercased()
        if ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(text) { return Reference.defaultRegistry }
        return text
    }

    // MARK: File

    private func helper(in config: [String: Any], for registry: String) throws -> CredentialHelper? {
        if let helpers = config["credHelpers"] as? [String: Any] {
            for (key, value) in helpers where Self.normalize(key) == Self.normalize(registry) {
                if let name = value as? String, !name.isEmpty { return try CredentialHelper(name: name, searchPath: searchPath) }
            }
        }
        if let name = config["credsStore"] as? String, !name.isEmpty {
            return try CredentialHelper(name: name, searchPath: searchPath)
        }
        return nil
    }

    private static func decode(entry: [String: Any], key: String) throws -> Credentials? {
        let operation = "read credentials for \(Printable.escape(key))"
        if let token = entry["identitytoken"] as? String, !token.isEmpty {
            return Credentials(username: "<token>", secret: token, isIdentityToken: true)
        }
        if let auth = entry["auth"] as? String, !auth.isEmpty {
            guard let decoded = Data(base64Encoded: auth), let text = String(data: decoded, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else {
                throw RegistryError(.credentials, operation, "the 'auth' field is not base64 of user:password")
            }
            return Credentials(username: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
        }
        if let username = entry["username"] as? String, let password = entry["password"] as? String, !username.isEmpty {
            return Credentials(username: username, secret: password)
        }
        return nil
    }

    func load() throws -> [String: Any] {
        guard !configPath.isEmpty else { return [:] }
        guard let data = try RegistryError.readFile(configPath, limit: 4 << 20, kind: .credentials) else { return [:] }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data), let config = object as? [String: Any] else {
            throw RegistryError(.credentials, "read \(configPath)", "not a JSON object")
        }
        return config
    }

    private func save(_ config: [String: Any]) throws {
        guard !configPath.isEmpty else {
            throw RegistryError(.credentials, "save credentials", "no home directory is known (HOME is unset or not absolute, and the user has no passwd entry); hint: set DOCKER_CONFIG")
        }
        let directory = (configPath as NSString).deletingLastPathComponent
        if !directory.isEmpty, access(directory, F_OK) != 0 {
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw RegistryError(.credentials, "write \(configPath)", SystemError.last("mkdir", path: directory).description)
            }
        }
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        do {
            try AtomicFile.write(data + Data("\n".utf8), to: configPath, mode: 0o600)
        } catch {
            throw RegistryError(.credentials, "write \(configPath)", "\(error)")
        }
    }
}
