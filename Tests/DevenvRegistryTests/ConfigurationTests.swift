@testable import DevenvTestSupport
import DevenvOCI
@testable import DevenvRegistry
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Pure pieces: challenge parsing, Retry-After, the plain-HTTP rule, mirrors,
/// registries.json and docker's credential configuration.
@Suite struct ConfigurationTests {
    /// Issue 11 item 1's class: an empty or relative HOME never puts docker's config at
    /// `/.docker` or under the current directory; the passwd entry's home is used instead.
    @Test(arguments: ["", "relative/home"])
    func anUnusableHomeFallsBackToThePasswdEntry(home: String) throws {
        let store = DockerCredentialStore(environment: ["HOME": home])
        let passwdHome = String(cString: getpwuid(geteuid()).pointee.pw_dir)
        #expect(store.configPath == "\(passwdHome)/.docker/config.json")
        #expect(RegistryHosts.configurationFile(environment: ["HOME": home]) == nil)
    }

    @Test func challengesAreParsed() throws {
        let bearer = try AuthChallenge.parse(#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull""#)
        #expect(bearer == [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                                                          "scope": "repository:library/debian:pull"])])
        let both = try AuthChallenge.parse(#"Basic realm="x", Bearer realm="https://a/t", service=s"#)
        #expect(both.map(\.scheme) == ["basic", "bearer"])
        #expect(both[1].parameters["service"] == "s")
        let escaped = try AuthChallenge.parse(#"Bearer realm="a\"b""#)
        #expect(escaped[0].parameters["realm"] == #"a"b"#)
    }

    @Test(arguments: [#"Bearer realm="unterminated"#, "=oops", #"Bearer realm="a" junk"#, String(repeating: "a", count: 9000),
                      "Bearer realm=\"a\u{01}b\""])
    func malformedChallengesAreErrors(header: String) {
        #expect(throws: AuthChallenge.ParseError.self) { try AuthChallenge.parse(header) }
    }

    @Test func retryAfterAcceptsSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(HTTPMessage.retryAfter("120", now: now) == 120)
        #expect(HTTPMessage.retryAfter("-3", now: now) == nil)
        #expect(HTTPMessage.retryAfter("Tue, 14 Nov 2023 22:15:00 GMT", now: now) == 100)
        #expect(HTTPMessage.retryAfter("soon", now: now) == nil)
        var policy = RegistryConfiguration.Retry()
        policy.maxRetryAfter = 30
        #expect(policy.delay(attempt: 1, retryAfter: 100_000) == 30)
        #expect(policy.delay(attempt: 10, retryAfter: nil) <= policy.maxDelay * 1.25)
    }

    @Test func urlsArePrintedWithoutQueries() {
        let url = URL(string: "https://storage.example/blob?X-Amz-Signature=secret&token=abc")!
        #expect(HTTPMessage.display(url) == "https://storage.example/blob")
    }

    @Test func plainHTTPOnlyForLoopbackAndInsecureRegistries() throws {
        let hosts = RegistryHosts(insecure: ["registry.lan:5000", "build.box"])
        for loopback in ["127.0.0.1:5000", "127.1.2.3", "localhost:5000", "[::1]:5000", "localhost"] {
            #expect(try hosts.endpoints(for: loopback, pull: true).last?.base.scheme == "http", "\(loopback)")
        }
        #expect(try hosts.endpoints(for: "registry.lan:5000", pull: true).last?.base.scheme == "http")
        #expect(try hosts.endpoints(for: "build.box:443", pull: true).last?.base.scheme == "http")
        for secure in ["ghcr.io", "128.0.0.1:5000", "registry.lan:5001", "127.0.0.1.example.com", "localhost.evil"] {
            #expect(try hosts.endpoints(for: secure, pull: true).last?.base.scheme == "https", "\(secure)")
        }
        #expect(try hosts.endpoints(for: "docker.io", pull: false).last?.base.absoluteString == "https://registry-1.docker.io")
    }

    @Test func mirrorsComeFirstForPullsOnly() throws {
        let hosts = RegistryHosts(mirrors: ["docker.io": [URL(string: "https://mirror.example/v2/")!, URL(string: "http://127.0.0.1:5000")!]])
        let pull = try hosts.endpoints(for: "docker.io", pull: true)
        #expect(pull.map(\.base.absoluteString) == ["https://mirror.example", "http://127.0.0.1:5000", "https://registry-1.docker.io"])
        #expect(pull.map(\.isMirror) == [true, true, false])
        #expect(try hosts.endpoints(for: "docker.io", pull: false).count == 1)
        let plain = RegistryHosts(mirrors: ["docker.io": [URL(string: "http://mirror.example")!]])
        let error = expectError(RegistryError.self) { try plain.endpoints(for: "docker.io", pull: true) }
        #expect(error?.kind == .insecure)
    }

    @Test func registriesFileAndEnvironmentAreRead() throws {
        let scratch = try Scratch()
        try #"{"insecure": ["lan:5000"], "mirrors": {"docker.io": ["https://mirror.example"]}}"#
            .write(toFile: scratch.file("registries.json"), atomically: true, encoding: .utf8)
        let hosts = try RegistryHosts.load(environment: ["DEVENV_CONFIG_DIR": scratch.path, "DEVENV_INSECURE_REGISTRIES": "a:1, b"])
        #expect(hosts.insecure == ["lan:5000", "a:1", "b"])
        #expect(hosts.mirrors["docker.io"] == [URL(string: "https://mirror.example")!])
        try "{not json".write(toFile: scratch.file("registries.json"), atomically: true, encoding: .utf8)
        #expect(throws: RegistryError.self) { try RegistryHosts.load(environment: ["DEVENV_CONFIG_DIR": scratch.path]) }
        #expect(try RegistryHosts.load(environment: ["DEVENV_CONFIG_DIR": scratch.file("missing")]) == RegistryHosts())
    }

    @Test func dockerConfigEntriesAreFound() throws {
        let scratch = try Scratch()
        let config = """
        {"auths": {
          "https://index.docker.io/v1/": {"auth": "\(Data("hub:pw1".utf8).base64EncodedString())"},
          "http://lan:5000/": {"username": "u", "password": "pw2"},
          "ghcr.io": {"identitytoken": "refresh-xyz"}
        }, "unrelated": {"keep": true}}
        """
        try config.write(toFile: scratch.file("config.json"), atomically: true, encoding: .utf8)
        let store = DockerCredentialStore(configPath: scratch.file("config.json"))
        #expect(try store.credentials(for: "docker.io") == Credentials(username: "hub", secret: "pw1"))
        #expect(try store.credentials(for: "lan:5000") == Credentials(username: "u", secret: "pw2"))
        #expect(try store.credentials(for: "ghcr.io")?.isIdentityToken == true)
        #expect(try store.credentials(for: "quay.io") == nil)
        #expect("\(try store.credentials(for: "lan:5000")!)".contains("pw2") == false, "printing never shows the secret")

        try store.store(Credentials(username: "new", secret: "pw3"), for: "lan:5000")
        var info = stat()
        #expect(stat(scratch.file("config.json"), &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try store.credentials(for: "lan:5000") == Credentials(username: "new", secret: "pw3"))
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("config.json")))) as? [String: Any]
        #expect(saved?["unrelated"] != nil, "unknown fields are kept")
        #expect(try store.erase(for: "lan:5000"))
        #expect(try store.credentials(for: "lan:5000") == nil)
        #expect(try store.credentials(for: "docker.io") != nil)
    }

    @Test func credentialHelpersGetSecretsOnStdin() throws {
        let scratch = try Scratch()
        let helper = scratch.file("bin/docker-credential-devenvtest")
        try FileManager.default.createDirectory(atPath: scratch.file("bin"), withIntermediateDirectories: true)
        // The helper records its arguments and stdin, and answers for one server.
        let script = """
        #!/bin/sh
        input=$(cat)
        echo "$@" >> \(scratch.file("args"))
        echo "$input" >> \(scratch.file("stdin"))
        case "$1" in
          get) if [ "$input" = "helped.example" ]; then echo '{"ServerURL":"helped.example","Username":"hu","Secret":"hs"}'; else echo "credentials not found in native keychain"; exit 1; fi ;;
          store|erase) exit 0 ;;
        esac
        """
        try script.write(toFile: helper, atomically: true, encoding: .utf8)
        chmod(helper, 0o755)
        try #"{"credHelpers": {"helped.example": "devenvtest"}, "auths": {"other.example": {"auth": "\#(Data("o:p".utf8).base64EncodedString())"}}}"#
            .write(toFile: scratch.file("config.json"), atomically: true, encoding: .utf8)
        let store = DockerCredentialStore(configPath: scratch.file("config.json"), searchPath: scratch.file("bin"))
        #expect(try store.credentials(for: "helped.example") == Credentials(username: "hu", secret: "hs"))
        #expect(try store.credentials(for: "other.example") == Credentials(username: "o", secret: "p"))
        try store.store(Credentials(username: "hu", secret: "new-secret"), for: "helped.example")
        let arguments = try String(contentsOfFile: scratch.file("args"), encoding: .utf8)
        #expect(arguments == "get\nstore\n")
        #expect(!arguments.contains("new-secret"), "secrets never in arguments")
        #expect(try String(contentsOfFile: scratch.file("stdin"), encoding: .utf8).contains("new-secret"))

        try #"{"credsStore": "../../bin/sh"}"#.write(toFile: scratch.file("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: RegistryError.self) { try store.credentials(for: "x.example") }
    }
}
