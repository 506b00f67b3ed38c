@testable import DevenvTestSupport
import Foundation
import Testing

/// `--debug` and `DEVENV_LOG=debug`: what devenv does, on stderr, never a credential.
@Suite(.serialized, .enabled(if: Requirement.programs("docker-registry", "tar"), "needs docker-registry and tar"), .timeLimit(.minutes(20)))
struct DebugLogTests {
    @Test func registryRequestsAreLoggedWithoutCredentials() throws {
        let password = "s3cret-pass-\(UUID().uuidString.prefix(8))"
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: password))
        defer { registry.stop() }
        let scratch = try Scratch("devenv-debug-log")
        let store = scratch.file("store")
        let environment = ["DOCKER_CONFIG": scratch.file("docker")]
        let name = "\(registry.authority)/team/busybox:1"
        let imported = try DevenvProcess.devenv(["image", "import", try Fixtures.busyboxRootfs(in: scratch), "--tag", name], store: store)
        try #require(imported.succeeded, "\(imported.stderr)")
        let login = try DevenvProcess.devenv(["login", registry.authority, "-u", "alice", "--password-stdin"], store: store,
                                             environment: environment, stdin: Data("\(password)\n".utf8))
        try #require(login.succeeded, "\(login.stderr)")

        let quiet = try DevenvProcess.devenv(["push", name], store: store, environment: environment)
        #expect(quiet.succeeded && !quiet.stderr.contains("debug"), "\(quiet.stderr)")
        for (arguments, variables) in [(["--debug", "push", name], environment), (["push", name], environment.merging(["DEVENV_LOG": "debug"]) { $1 })] {
            let pushed = try DevenvProcess.devenv(arguments, store: store, environment: variables)
            #expect(pushed.succeeded, "\(pushed.stderr)")
            #expect(pushed.stderr.contains("http://\(registry.authority)/v2/team/busybox/"), "\(pushed.stderr)")
            #expect(pushed.stderr.contains("Authorization: <redacted>"), "\(pushed.stderr)")
            let basic = Data("alice:\(password)".utf8).base64EncodedString()
            #expect(!pushed.stderr.contains(password) && !pushed.stderr.contains(basic), "a credential reached the log")
        }
    }
}
