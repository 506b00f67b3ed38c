@testable import DevenvTestSupport
import DevenvOCI
@testable import DevenvRegistry
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Downloads over real TLS (`TLSFileServer`: Python's ssl with a CA the test makes), the CA
/// variables curl and Go programs honour, and the HTTP dates `Last-Modified` carries.
@Suite struct HTTPSDownloadTests {
    /// 1994-11-06 08:49:37 UTC, RFC 9110's example, in its three forms.
    static let example: Int64 = 784_111_777

    @Test func httpDatesInTheirThreeForms() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == Self.example)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == Self.example)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == Self.example)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 23:59:59 GMT") == 1_709_251_199)
        #expect(HTTPDate.parse("Tuesday, 01-Jan-30 00:00:00 GMT") == 1_893_456_000)
        for malformed in ["", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
                          "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:37 GMT",
                          "Sun, +6 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "1994-11-06T08:49:37Z", "Sun, 06 Nov 1994 08:49 GMT", "784111777"] {
            #expect(HTTPDate.parse(malformed) == nil, "\(malformed)")
        }
        // Retry-After reads the same dates.
        #expect(HTTPMessage.retryAfter("Sun, 06 Nov 1994 08:50:37 GMT", now: Date(timeIntervalSince1970: TimeInterval(Self.example))) == 60)
    }

    @Test func caVariablesAreReadInCurlsOrder() {
        #expect(CertificateTrust.from(environment: [:]) == CertificateTrust())
        let curls = CertificateTrust.from(environment: ["CURL_CA_BUNDLE": "/a.pem", "SSL_CERT_FILE": "/b.pem", "SSL_CERT_DIR": "/certs"])
        #expect(curls == CertificateTrust(bundle: .init(path: "/a.pem", variable: "CURL_CA_BUNDLE")))
        let openssls = CertificateTrust.from(environment: ["CURL_CA_BUNDLE": "", "SSL_CERT_FILE": "/b.pem", "SSL_CERT_DIR": "/certs"])
        #expect(openssls == CertificateTrust(bundle: .init(path: "/b.pem", variable: "SSL_CERT_FILE"), directory: .init(path: "/certs", variable: "SSL_CERT_DIR")))
        let standard = try? RegistryConfiguration.standard(environment: ["SSL_CERT_FILE": "/b.pem", "HOME": NSTemporaryDirectory()])
        #expect(standard?.trust.bundle?.path == "/b.pem")
    }

    /// Trusted through SSL_CERT_FILE's CA, a download succeeds and reports `Last-Modified`;
    /// without it the certificate is refused with a hint naming the variable; a CA file that
    /// cannot be read is named.
    @Test(.enabled(if: Requirement.programs("openssl", "python3")))
    func downloadsTrustTheConfiguredCA() throws {
        try Requirement.require(programs: ["openssl", "python3"])
        let server = try TLSFileServer()
        defer { server.stop() }
        let payload = Data("over TLS\n".utf8)
        try server.put("file.txt", payload, modified: Date(timeIntervalSince1970: TimeInterval(Self.example)))
        let scratch = try Scratch("https-download")
        let url = try #require(URL(string: "\(server.base)/file.txt"))

        var configuration = RegistryConfiguration()
        configuration.trust = CertificateTrust.from(environment: ["SSL_CERT_FILE": server.caCertificate])
        let download = try RegistryClient(configuration: configuration).download(url, to: scratch.file("a"), expected: nil, limit: 1 << 20)
        #expect(download.digest == Digest.sha256(payload) && download.size == Int64(payload.count))
        #expect(download.lastModified == "Sun, 06 Nov 1994 08:49:37 GMT" && download.modified == Self.example)
        #expect(FileManager.default.contents(atPath: scratch.file("a")) == payload)

        // Revalidation: the ETag sent back as If-None-Match; a 304 keeps the file and the
        // known download, a changed file (a new ETag) is fetched.
        let client = RegistryClient(configuration: configuration)
        #expect(download.etag?.hasPrefix("\"") == true)
        server.clearRequests()
        #expect(try client.download(url, to: scratch.file("a"), expected: nil, limit: 1 << 20, known: download) == download)
        #expect(server.responses == ["304 /file.txt"] && FileManager.default.contents(atPath: scratch.file("a")) == payload)
        try server.put("file.txt", Data("changed\n".utf8), modified: Date(timeIntervalSince1970: TimeInterval(Self.example + 60)))
        let changed = try client.download(url, to: scratch.file("a"), expected: nil, limit: 1 << 20, known: download)
        #expect(changed.digest == Digest.sha256(Data("changed\n".utf8)) && changed.modified == Self.example + 60 && changed.etag != download.etag)
        #expect(server.responses == ["304 /file.txt", "200 /file.txt"] && FileManager.default.contents(atPath: scratch.file("a")) == Data("changed\n".utf8))

        let untrusted = try #require(throws: RegistryError.self) {
            try RegistryClient().download(url, to: scratch.file("b"), expected: nil, limit: 1 << 20)
        }
        #expect(untrusted.kind == .insecure)
        #expect(untrusted.description.contains("download \(server.base)/file.txt: TLS failed: the server's certificate is not trusted"), "\(untrusted)")
        #expect(untrusted.description.contains("set SSL_CERT_FILE to a PEM file with that CA's certificate"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("b")))

        configuration.trust = CertificateTrust.from(environment: ["SSL_CERT_FILE": scratch.file("missing.pem")])
        let unreadable = try #require(throws: RegistryError.self) {
            try RegistryClient(configuration: configuration).download(url, to: scratch.file("c"), expected: nil, limit: 1 << 20)
        }
        #expect(unreadable.description.contains("cannot read the trusted CA certificates (\(scratch.file("missing.pem")), from SSL_CERT_FILE)"), "\(unreadable)")
    }
}
