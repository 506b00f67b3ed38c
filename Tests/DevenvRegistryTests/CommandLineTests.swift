@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `devenv login/logout/push/pull` through the real binary built next to the tests.
@Suite struct CommandLineTests {
    static var binary: String { get throws { try BuildProducts.executable() } }

    @Test func loginPushPullLogout() throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "s3cret-pass"))
        defer { registry.stop() }
        let scratch = try Scratch()
        let environment = ["DOCKER_CONFIG": scratch.file("docker"), "DEVENV_CONFIG_DIR": scratch.file("config"),
                           "DEVENV_HOME": scratch.file("store")]
        let store = try Images.store(scratch)
        _ = try Images.random(in: store, name: "\(registry.authority)/team/cli:1", layerSizes: [20_000])

        let wrong = try Tools.execute(try Self.binary, ["login", registry.authority, "-u", "alice", "--password-stdin"],
                                      stdin: Data("nope\n".utf8), environment: environment)
        #expect(wrong.status == 125)
        #expect(wrong.stderr.contains("refused") || wrong.stderr.contains("401"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("docker/config.json")))

        let login = try Tools.execute(try Self.binary, ["login", registry.authority, "-u", "alice", "--password-stdin"],
                                      stdin: Data("s3cret-pass\n".utf8), environment: environment)
        #expect(login.status == 0, "\(login.stderr)")
        let configPath = scratch.file("docker/config.json")
        var info = stat()
        #expect(stat(configPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any]
        let auth = ((config?["auths"] as? [String: Any])?[registry.authority] as? [String: Any])?["auth"] as? String
        #expect(auth == Data("alice:s3cret-pass".utf8).base64EncodedString())

        let push = try Tools.execute(try Self.binary, ["push", "--store", store.layout.root, "\(registry.authority)/team/cli:1",
                                                   "\(registry.authority)/team/copy:2"], environment: environment)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(push.stdout.hasPrefix("\(registry.authority)/team/copy:2 sha256:"))
        #expect(!push.stderr.contains("s3cret"))

        let pull = try Tools.execute(try Self.binary, ["pull", "--no-unpack", "--store", scratch.file("pulled"), "\(registry.authority)/team/copy:2"],
                                     environment: environment)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.hasPrefix("\(registry.authority)/team/copy:2 sha256:"))

        let logout = try Tools.execute(try Self.binary, ["logout", registry.authority], environment: environment)
        #expect(logout.status == 0 && logout.stdout.contains("removed credentials"))
        let denied = try Tools.execute(try Self.binary, ["pull", "--no-unpack", "--store", scratch.file("again"), "\(registry.authority)/team/copy:2"],
                                       environment: environment)
        #expect(denied.status == 125)
        #expect(denied.stderr.contains("devenv login \(registry.authority)"), "\(denied.stderr)")
    }

    @Test func passwordIsNeverAnArgument() throws {
        let result = try Tools.execute(try Self.binary, ["login", "127.0.0.1:1", "-u", "x", "--password", "secret"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--password"), "\(result.stderr)")
    }
}
