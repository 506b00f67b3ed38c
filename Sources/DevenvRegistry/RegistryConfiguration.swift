import Foundation

/// Everything a `RegistryClient` can be tuned with. The defaults suit real registries;
/// tests shrink the timeouts and delays so fault cases finish in seconds.
public struct RegistryConfiguration: Sendable {
    public struct Timeouts: Sendable {
        /// From sending a request to its response headers (covers connecting, A6a).
        public var response: TimeInterval = 30
        /// The longest silence while a body is arriving.
        public var idle: TimeInterval = 60
        /// A body must bring at least `lowSpeedBytes` every `lowSpeedWindow` seconds, so a
        /// server dripping one byte at a time cannot hold a pull forever (A6b).
        public var lowSpeedBytes: Int64 = 1024
        public var lowSpeedWindow: TimeInterval = 60
        /// Whole-request limit for small documents: manifests, tokens, upload steps.
        public var document: TimeInterval = 120

        public init() {}
    }

    public struct Retry: Sendable {
        /// Attempts per request, and failed attempts per blob download (containerd: 5).
        public var maxAttempts = 5
        public var baseDelay: TimeInterval = 0.25
        public var maxDelay: TimeInterval = 8
        /// A server's Retry-After is honoured up to this many seconds (A6f).
        public var maxRetryAfter: TimeInterval = 30

        public init() {}

        /// Exponential backoff with jitter for the `attempt`-th retry (1-based), or the
        /// server's Retry-After when it sent one, both capped.
        func delay(attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
            if let retryAfter { return min(max(retryAfter, 0), maxRetryAfter) }
            let exponential = baseDelay * pow(2, Double(max(attempt - 1, 0)))
            return min(exponential, maxDelay) * Double.random(in: 0.75...1.25)
        }
    }

    public struct Limits: Sendable {
        /// Manifests, indexes and configs (containers/image: 4 MiB).
        public var document: Int = 4 << 20
        /// Token responses (containers/image: 1 MiB, A6d).
        public var token: Int = 1 << 20
        /// Error bodies are read up to this much (the rest is not read) and truncated when
        /// printed. Blob bodies are bounded by their descriptor's size instead (BlobDownloader).
        public var errorBody: Int = 64 << 10
        /// The largest layer devenv agrees to download (A5).
        public var blob: Int64 = 64 << 30
        /// Blobs up to this size are uploaded in one PUT; larger ones in PATCH chunks of it.
        public var uploadChunk: Int64 = 16 << 20
        public var redirects = 5
        public var authRounds = 2

        public init() {}
    }

    public var timeouts = Timeouts()
    public var retry = Retry()
    public var limits = Limits()
    /// Blobs transferred at the same time.
    public var concurrency = 3
    public var hosts: RegistryHosts
    public var credentials: any CredentialSource
    public var userAgent = "devenv/0.1"
    /// The CAs TLS connections trust (registries and downloads alike).
    public var trust = CertificateTrust()

    public init(hosts: RegistryHosts = RegistryHosts(), credentials: any CredentialSource = DockerCredentialStore()) {
        self.hosts = hosts
        self.credentials = credentials
    }

    /// The configuration for a command line run: registries.json, `DEVENV_INSECURE_REGISTRIES`,
    /// the docker credential configuration of the current user and the CA variables
    /// (`CertificateTrust`).
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RegistryConfiguration {
        var configuration = RegistryConfiguration(hosts: try RegistryHosts.load(environment: environment),
                                                  credentials: DockerCredentialStore(environment: environment))
        configuration.trust = CertificateTrust.from(environment: environment)
        return configuration
    }
}
