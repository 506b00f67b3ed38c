@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import Foundation
import Testing

/// Issue 11 item 10: a registry that echoes the credentials it was sent (in a plain or JSON
/// error, a JSON `detail`, a token field, or a challenge whose realm URL carries
/// `user:password@`) gets none of them onto the terminal of a real `devenv pull`.
@Suite struct CredentialEchoTests {
    static let user = "alice"
    static let password = "s3cret-pass-4242"
    static let token = "tok-9f8e7d6c5b4a39281706"

    /// Every form in which the secrets could show up.
    static var secretForms: [String] {
        let basic = Data("\(user):\(password)".utf8).base64EncodedString()
        return [password, basic, String(basic.prefix { $0 != "=" }), token, Data(token.utf8).base64EncodedString(),
                Data(password.utf8).base64EncodedString()]
    }

    /// A 403 body that quotes the Authorization header `sent`, every way a registry might.
    static func echo(_ sent: String) -> Data {
        let escaped = sent.replacingOccurrences(of: "\"", with: "\\\"")
        return Data(#"{"errors":[{"code":"DENIED","message":"denied for \#(escaped)","detail":{"authorization":"\#(escaped)","token":"\#(token)"}}]}"#.utf8)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var rule: HostileRegistry.Rule
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Basic echoed in a JSON error") { request, _ in
            guard let sent = request.headers["authorization"] else {
                return .respond(status: 401, headers: ["WWW-Authenticate": #"Basic realm="hostile""#], body: Data())
            }
            return .respond(status: 403, headers: ["Content-Type": "application/json"], body: echo(sent))
        },
        Case(name: "Basic echoed in a plain-text error") { request, _ in
            guard let sent = request.headers["authorization"] else {
                return .respond(status: 401, headers: ["WWW-Authenticate": #"Basic realm="hostile""#], body: Data())
            }
            let decoded = String(decoding: Data(base64Encoded: String(sent.dropFirst(6))) ?? Data(), as: UTF8.self)
            return .respond(status: 500, headers: [:], body: Data("you sent Authorization: \(sent) (that is \(decoded))".utf8))
        },
        Case(name: "Bearer token echoed in a JSON error") { request, registry in
            if request.path == "/token" {
                return .respond(status: 200, headers: ["Content-Type": "application/json"], body: Data(#"{"token":"\#(token)","access_token":"\#(token)"}"#.utf8))
            }
            guard let sent = request.headers["authorization"] else {
                return .respond(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://\#(registry.authority)/token",service="hostile""#], body: Data())
            }
            return .respond(status: 403, headers: ["Content-Type": "application/json"], body: echo(sent))
        },
        Case(name: "token service echoing the Basic credentials") { request, registry in
            if request.path == "/token" {
                return .respond(status: 401, headers: [:], body: echo(request.headers["authorization"] ?? "none"))
            }
            return .respond(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://\#(registry.authority)/token",service="hostile""#], body: Data())
        },
        Case(name: "credentials in a malformed challenge's realm URL") { _, registry in
            .respond(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://\#(user):\#(password)@\#(registry.authority)/token",service="x"#], body: Data())
        },
        Case(name: "credentials in a realm URL the token service echoes") { request, registry in
            if request.path == "/token" {
                return .respond(status: 500, headers: [:], body: Data("no token for http://\(user):\(password)@\(registry.authority)/token?password=\(password)".utf8))
            }
            return .respond(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://\#(registry.authority)/token",service="x""#], body: Data())
        },
    ]

    @Test(arguments: cases)
    func echoedCredentialsAreRedacted(_ echo: Case) throws {
        let registry = try HostileRegistry(rule: echo.rule)
        defer { registry.stop() }
        let scratch = try Scratch()
        let auth = Data("\(Self.user):\(Self.password)".utf8).base64EncodedString()
        try FileManager.default.createDirectory(atPath: scratch.file("docker"), withIntermediateDirectories: true)
        try Data(#"{"auths":{"\#(registry.authority)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: scratch.file("docker/config.json")))
        let result = try MeasuredProcess.run(try BuildProducts.executable("devenv-core"),
                                             ["pull", "--no-unpack", "--store", scratch.file("store"), registry.reference],
                                             environment: ["DOCKER_CONFIG": scratch.file("docker"), "DEVENV_CONFIG_DIR": scratch.file("config")])
        #expect(result.status == 125, "\(result.stderr)")
        let output = result.stdout + result.stderr
        for form in Self.secretForms {
            #expect(!output.contains(form), "'\(form)' in: \(output)")
        }
        #expect(output.contains(Redaction.marker), "\(output)")
    }
}
