@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `devenv login`, `push`, `pull`, `image export` and `image import` end to end through a
/// real registry with htpasswd authentication, as root and as the unprivileged test user.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("docker-registry", "tar"), "needs root (to act as the test user too), docker-registry and tar"),
       .timeLimit(.minutes(20)))
struct RegistryCommandTests {
    static func layers(_ runner: DevenvRunner, _ name: String) throws -> [String] {
        let inspected = try runner.devenv(["image", "inspect", "--json", name])
        let object = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any]
        let manifest = object?["manifest"] as? [String: Any]
        return (manifest?["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    @Test(arguments: DevenvUser.allCases)
    func loginPushPullRunExportAndImport(_ user: DevenvUser) throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "s3cret-pass"))
        defer { registry.stop() }
        let scratch = try Scratch("devenv-registry-e2e")
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        let first = try DevenvRunner(user, scratch: scratch)
        let second = try DevenvRunner(user, scratch: scratch, store: scratch.file("second-store"))
        // Credentials in the scratch, never in root's or the user's real ~/.docker.
        let docker = ["DOCKER_CONFIG": scratch.file("docker")]
        let name = "\(registry.authority)/team/busybox:1"

        let imported = try first.devenv(["image", "import", tarball, "--tag", name])
        try #require(imported.succeeded, "\(imported.stderr)")
        let denied = try first.devenv(["push", name], environment: docker)
        #expect(!denied.succeeded && denied.stderr.contains("devenv login"), "\(denied.stderr)")

        let login = try first.devenv(["login", registry.authority, "-u", "alice", "--password-stdin"], environment: docker, stdin: Data("s3cret-pass\n".utf8))
        #expect(login.succeeded, "\(login.stderr)")
        var info = stat()
        #expect(stat(scratch.file("docker/config.json"), &info) == 0 && info.st_mode & 0o777 == 0o600 && info.st_uid == first.account?.uid ?? 0,
                "config.json is the user's own, mode 0600")
        let pushed = try first.devenv(["push", name], environment: docker)
        #expect(pushed.succeeded, "\(pushed.stderr)")

        let pulled = try second.devenv(["pull", name], environment: docker)
        try #require(pulled.succeeded, "\(pulled.stderr)")
        #expect(try Self.layers(second, name) == Self.layers(first, name))
        let ran = try second.devenv(["run", "--image", name, "--", "cat", "/etc/passwd"], directory: scratch.path)
        #expect(ran.succeeded && ran.stdout.hasPrefix("root:x:0:0:"), "\(ran.stderr)")

        let archive = scratch.file("exported.tar")
        let exported = try second.devenv(["image", "export", name, "--output", archive])
        #expect(exported.succeeded, "\(exported.stderr)")
        let again = try first.devenv(["image", "import", archive, "--tag", "localhost/again:1"])
        #expect(again.succeeded, "\(again.stderr)")
        #expect(try Self.layers(first, "localhost/again:1") == Self.layers(first, name))
        for runner in [first, second] {
            let check = try runner.devenv(["check"])
            #expect(check.succeeded, "\(runner.store): \(check.stdout)\(check.stderr)")
        }
    }
}
