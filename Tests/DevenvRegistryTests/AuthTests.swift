@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation
import Testing

/// Basic (htpasswd) and Bearer (token service) authentication against the real registry,
/// and the bounded failure modes of hostile challenges (malformed, oversized, looping).
@Suite struct AuthTests {
    let alice = Credentials(username: "alice", secret: "s3cret-pass")

    @Test func basicAuthPushAndPull() throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "s3cret-pass"))
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let image = try Images.random(in: store, name: "local", layerSizes: [50_000])
        let reference = try Reference(parsing: "\(registry.authority)/team/private:1")

        let anonymous = RegistryClient(configuration: .testing())
        let denied = expectError(RegistryError.self) { try anonymous.push(image, from: store, to: reference) }
        #expect(denied?.kind == .unauthorized)
        #expect(denied?.description.contains("devenv login \(registry.authority)") == true, "\(String(describing: denied))")

        let wrong = RegistryClient(configuration: .testing(credentials: [registry.authority: Credentials(username: "alice", secret: "nope")]))
        let refused = expectError(RegistryError.self) { try wrong.push(image, from: store, to: reference) }
        #expect(refused?.kind == .unauthorized)
        #expect(refused?.description.contains("nope") == false, "the password never appears in errors")

        let client = RegistryClient(configuration: .testing(credentials: [registry.authority: alice]))
        try client.push(image, from: store, to: reference)
        let pulled = try client.pull(reference, into: try Images.store(scratch, "pulled"))
        #expect(pulled.manifestDescriptor.digest == image.manifestDescriptor.digest)
        try client.verifyLogin(registry: registry.authority, credentials: alice)
        #expect(throws: RegistryError.self) {
            try client.verifyLogin(registry: registry.authority, credentials: Credentials(username: "alice", secret: "wrong"))
        }
    }

    @Test func bearerTokensPerScopeAreCachedAndCredentialsStayOnTheTokenService() throws {
        let tokens = try TokenServer(users: ["alice": "s3cret-pass"], anonymousPull: true)
        defer { tokens.stop() }
        let registry = try TestRegistry(auth: .token(tokens))
        defer { registry.stop() }
        let proxy = try FaultProxy(upstream: registry.port)
        defer { proxy.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let image = try Images.random(in: store, name: "local", layerSizes: [10_000, 20_000, 30_000])
        let reference = try Reference(parsing: "\(proxy.authority)/team/tokened:1")

        let client = RegistryClient(configuration: .testing(credentials: [proxy.authority: alice]))
        try client.push(image, from: store, to: reference)
        let pushTokens = tokens.requests.count
        #expect(pushTokens >= 1 && pushTokens <= 2, "one token for the push scope, reused for every blob: \(pushTokens)")
        #expect(tokens.requests.allSatisfy { $0.query["scope"] == ["repository:team/tokened:pull,push"] })
        #expect(tokens.requests.allSatisfy { $0.headers["authorization"]?.hasPrefix("Basic ") == true })
        // The registry only ever sees Bearer tokens, never the password.
        for headers in proxy.requests("GET") + proxy.requests("PUT") + proxy.requests("HEAD") {
            #expect(headers["authorization"]?.hasPrefix("Basic") != true)
        }

        let anonymous = RegistryClient(configuration: .testing())
        let pulled = try anonymous.pull(reference, into: try Images.store(scratch, "pulled"))
        #expect(pulled.manifestDescriptor.digest == image.manifestDescriptor.digest)
        #expect(tokens.requests.count == pushTokens + 1, "one anonymous pull token for manifest, config and three layers")

        let denied = expectError(RegistryError.self) { try anonymous.push(image, from: store, to: reference.withTag("2")) }
        #expect(denied?.kind == .unauthorized, "\(String(describing: denied))")
    }

    @Test func unauthorizedForeverIsBounded() throws {
        let tokens = try TokenServer()
        defer { tokens.stop() }
        let realm = tokens.realm
        let liar = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.respond(status: 401, headers: ["WWW-Authenticate": "Bearer realm=\"\(realm)\",service=\"x\",scope=\"repository:a/b:pull\""],
                               body: Data(#"{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}"#.utf8))
        }
        defer { liar.stop() }
        let scratch = try Scratch()
        let error = expectError(RegistryError.self) {
            try RegistryClient(configuration: .testing()).pull(try Reference(parsing: "\(liar.authority)/a/b:1"), into: try Images.store(scratch))
        }
        #expect(error?.kind == .unauthorized)
        #expect(error?.description.contains("after 2 rounds") == true, "\(String(describing: error))")
        #expect(tokens.requests.count == 2)
    }

    @Test func hugeTokenBodyIsCapped() throws {
        let tokens = try TokenServer(behaviour: .hugeBody)
        defer { tokens.stop() }
        let realm = tokens.realm
        let registry = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.respond(status: 401, headers: ["WWW-Authenticate": "Bearer realm=\"\(realm)\",service=\"x\""])
        }
        defer { registry.stop() }
        let scratch = try Scratch()
        let started = Date()
        let error = expectError(RegistryError.self) {
            try RegistryClient(configuration: .testing()).pull(try Reference(parsing: "\(registry.authority)/a/b:1"), into: try Images.store(scratch))
        }
        #expect(error?.kind == .tooLarge)
        #expect(error?.description.contains("1048576") == true, "\(String(describing: error))")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func malformedChallengeIsAClearError() throws {
        let registry = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.respond(status: 401, headers: ["WWW-Authenticate": "Bearer realm=\"http://127.0.0.1:1/token,service=\u{1b}[2J"])
        }
        defer { registry.stop() }
        let scratch = try Scratch()
        let error = expectError(RegistryError.self) {
            try RegistryClient(configuration: .testing()).pull(try Reference(parsing: "\(registry.authority)/a/b:1"), into: try Images.store(scratch))
        }
        #expect(error?.kind == .invalidContent)
        #expect(error?.description.contains("malformed WWW-Authenticate") == true, "\(String(describing: error))")
        #expect(error?.description.contains("\u{1b}") == false, "escaped before printing")
    }

    @Test func redirectToStorageCarriesNoCredentials() throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "s3cret-pass"))
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let image = try Images.random(in: store, name: "local", layerSizes: [70_000])
        let layer = image.manifest.layers[0]
        let layerBytes = try store.content.read(layer.digest, limit: 1 << 20)
        let storageLog = HeaderLog()
        let storage = try LoopbackServer { connection in
            guard let request = connection.readRequest() else { return }
            storageLog.append(request.headers)
            connection.respond(status: 200, headers: ["Content-Type": "application/octet-stream"], body: layerBytes)
        }
        defer { storage.stop() }
        let proxy = try FaultProxy(upstream: registry.port) { request, _ in
            request.method == "GET" && request.path.hasSuffix("/blobs/\(layer.digest)")
                ? [.redirect(to: "http://localhost:\(storage.port)/bucket/blob?X-Signature=abc")] : []
        }
        defer { proxy.stop() }
        let client = RegistryClient(configuration: .testing(credentials: [proxy.authority: alice]))
        let reference = try Reference(parsing: "\(proxy.authority)/team/redirected:1")
        try client.push(image, from: store, to: reference)
        let pulled = try client.pull(reference, into: try Images.store(scratch, "pulled"))
        #expect(pulled.manifestDescriptor.digest == image.manifestDescriptor.digest)
        #expect(storageLog.all.count == 1)
        #expect(storageLog.all.first?["authorization"] == nil, "no Authorization after a redirect to another host")
        #expect(proxy.requests("GET", "/manifests/").allSatisfy { $0["authorization"]?.hasPrefix("Basic ") == true })
    }
}

final class HeaderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[String: String]] = []

    func append(_ headers: [String: String]) {
        lock.lock()
        entries.append(headers)
        lock.unlock()
    }

    var all: [[String: String]] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }
}
