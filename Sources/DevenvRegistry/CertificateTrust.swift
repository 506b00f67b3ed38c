import DevenvOCI

/// Which certificate authorities TLS connections trust. By default libcurl's (the system
/// bundle); the variables curl, OpenSSL and Go programs (docker, BuildKit) read replace it, so
/// a server signed by a private CA works the way it does for those tools.
public struct CertificateTrust: Sendable, Equatable {
    /// A path, and the environment variable that named it (for messages).
    public struct Setting: Sendable, Equatable {
        public var path: String
        public var variable: String

        public init(path: String, variable: String) {
            self.path = path
            self.variable = variable
        }
    }

    /// A PEM bundle of trusted CA certificates.
    public var bundle: Setting?
    /// A directory of hashed CA certificates (`c_rehash`).
    public var directory: Setting?

    public init(bundle: Setting? = nil, directory: Setting? = nil) {
        self.bundle = bundle
        self.directory = directory
    }

    /// curl's rule: `CURL_CA_BUNDLE` alone, else `SSL_CERT_FILE` and `SSL_CERT_DIR`. Empty
    /// values count as unset.
    public static func from(environment: [String: String]) -> CertificateTrust {
        func setting(_ name: String) -> Setting? {
            guard let path = environment[name], !path.isEmpty else { return nil }
            return Setting(path: path, variable: name)
        }
        if let bundle = setting("CURL_CA_BUNDLE") { return CertificateTrust(bundle: bundle) }
        return CertificateTrust(bundle: setting("SSL_CERT_FILE"), directory: setting("SSL_CERT_DIR"))
    }

    /// For a TLS failure: what was trusted, and how to trust a private CA.
    var hint: String {
        let trusted = [bundle.map { "the CA certificates in \(Printable.escape($0.path)) (\($0.variable))" },
                       directory.map { "the CA directory \(Printable.escape($0.path)) (\($0.variable))" }].compactMap { $0 }
        if trusted.isEmpty {
            return "if the server's certificate comes from a private CA, set SSL_CERT_FILE to a PEM file with that CA's certificate"
        }
        return "devenv trusts only \(trusted.joined(separator: " and ")) here; add the server's CA certificate there"
    }
}
