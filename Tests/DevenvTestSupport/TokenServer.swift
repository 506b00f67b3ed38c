import Foundation

/// A token service for docker-registry's `auth: token:` mode, on loopback: it issues
/// RS256 JWTs signed (with the openssl tool) by a test key whose self-signed certificate
/// the registry trusts. It grants what is asked for to the configured users (Basic auth),
/// pull-only to anonymous callers when `anonymousPull` is set.
final class TokenServer: @unchecked Sendable {
    enum Behaviour {
        case normal
        /// Announces a 2 GiB body and streams zeros until the client gives up (A6d).
        case hugeBody
    }

    let service = "devenv-test-registry"
    let issuer = "devenv-test-issuer"
    let scratch: Scratch
    let certificatePath: String
    private let keyPath: String
    private let certificateDER: String
    private let users: [String: String]
    private let anonymousPull: Bool
    private let behaviour: Behaviour
    private let lock = NSLock()
    private var log: [WireConnection.Request] = []
    private var server: LoopbackServer?

    init(users: [String: String] = [:], anonymousPull: Bool = false, behaviour: Behaviour = .normal) throws {
        scratch = try Scratch("token")
        keyPath = scratch.file("key.pem")
        certificatePath = scratch.file("cert.pem")
        self.users = users
        self.anonymousPull = anonymousPull
        self.behaviour = behaviour
        try Tools.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certificatePath,
                                  "-days", "2", "-subj", "/CN=devenv-test-token"])
        try Tools.run("openssl", ["x509", "-in", certificatePath, "-outform", "DER", "-out", scratch.file("cert.der")])
        certificateDER = try Data(contentsOf: URL(fileURLWithPath: scratch.file("cert.der"))).base64EncodedString()
        server = try LoopbackServer { [unowned self] connection in handle(connection) }
    }

    deinit { stop() }

    var realm: String { "http://127.0.0.1:\(server?.port ?? 0)/token" }

    var requests: [WireConnection.Request] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    func stop() { server?.stop() }

    private func handle(_ connection: WireConnection) {
        guard let request = connection.readRequest() else { return }
        lock.lock()
        log.append(request)
        lock.unlock()
        if case .hugeBody = behaviour {
            connection.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\nConnection: close\r\n\r\n")
            let zeros = Data(repeating: 0x20, count: 1 << 16)
            var sent = 0
            while sent < 2_147_483_648, connection.write(zeros) { sent += zeros.count }
            return
        }
        var user: String?
        if let header = request.headers["authorization"], header.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = decoded.firstIndex(of: ":") {
            let name = String(decoded[..<colon])
            guard users[name] == String(decoded[decoded.index(after: colon)...]) else {
                connection.respond(status: 401, body: Data(#"{"details":"bad credentials"}"#.utf8))
                return
            }
            user = name
        }
        if user == nil && !anonymousPull && !users.isEmpty {
            connection.respond(status: 401, body: Data(#"{"details":"login required"}"#.utf8))
            return
        }
        var access: [[String: Any]] = []
        for scope in request.query["scope"] ?? [] {
            let parts = scope.split(separator: ":")
            guard parts.count == 3 else { continue }
            var actions = parts[2].split(separator: ",").map(String.init)
            if user == nil { actions = actions.filter { $0 == "pull" } }
            access.append(["type": String(parts[0]), "name": String(parts[1]), "actions": actions])
        }
        do {
            let token = try sign(subject: user ?? "", access: access)
            let body = try JSONSerialization.data(withJSONObject: ["token": token, "access_token": token, "expires_in": 300])
            connection.respond(status: 200, headers: ["Content-Type": "application/json"], body: body)
        } catch {
            connection.respond(status: 500, body: Data("\(error)".utf8))
        }
    }

    private func sign(subject: String, access: [[String: Any]]) throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header: [String: Any] = ["typ": "JWT", "alg": "RS256", "x5c": [certificateDER]]
        let claims: [String: Any] = ["iss": issuer, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 60,
                                     "iat": now, "jti": UUID().uuidString, "access": access]
        let input = Self.base64URL(try JSONSerialization.data(withJSONObject: header)) + "." + Self.base64URL(try JSONSerialization.data(withJSONObject: claims))
        let scratch = try Scratch("jwt")
        try Data(input.utf8).write(to: URL(fileURLWithPath: scratch.file("input")))
        try Tools.run("openssl", ["dgst", "-sha256", "-sign", keyPath, "-binary", "-out", scratch.file("sig"), scratch.file("input")])
        let signature = try Data(contentsOf: URL(fileURLWithPath: scratch.file("sig")))
        return input + "." + Self.base64URL(signature)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
