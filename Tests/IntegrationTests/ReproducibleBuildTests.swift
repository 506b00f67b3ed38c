@testable import DevenvTestSupport
import Foundation
import Testing

/// The same locked manifest built in two fresh stores from two checkouts at different paths
/// gives the same image: every layer, the configuration, hence the manifest digest. As
/// root and as the unprivileged test user. `devenv verify` says so too, and names a layer
/// whose command is not reproducible.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, and to act as the test user)"), .timeLimit(.minutes(20)))
struct ReproducibleBuildTests {
    static let manifest = """
    [base]
    image = "busybox:it"

    [[step]]
    copy = ["src"]
    to = "/src/"

    [[step]]
    env = { X = "1" }

    [[step]]
    workdir = "/src"

    [[step]]
    run = "mkdir -p /out && echo built > /out/result && cp /src/a.txt /out/"
    """

    static func inspect(_ project: ProjectFixture) throws -> (layers: [String], config: String, digest: String) {
        let built = try project.devenv(["build", "--json"])
        try #require(built.succeeded, "\(built.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any], "\(built.stderr)")
        let image = try #require(summary["image"] as? String)
        let inspected = try project.devenv(["image", "inspect", "--json", image])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any], "\(inspected.stderr)")
        let manifest = try #require(object["manifest"] as? [String: Any])
        let layers = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        let config = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
        return (layers, config, try #require(summary["digest"] as? String))
    }

    @Test(arguments: DevenvUser.allCases)
    func twoStoresTwoCheckoutsOneImage(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let first = try ProjectFixture(manifest: Self.manifest, as: user)
        let second = try ProjectFixture(manifest: Self.manifest, as: user)
        #expect(first.root != second.root && first.store != second.store)
        for project in [first, second] {
            try project.write("src/a.txt", "a\n")
            try project.write("src/sub/b.sh", "#!/bin/sh\n")
            chmod("\(project.root)/src/sub/b.sh", 0o755)
        }
        let one = try Self.inspect(first)
        // The second checkout builds from the first's lock, as a clone of the commit would.
        try second.write(".devenv/devenv.lock", try String(contentsOfFile: "\(first.root)/.devenv/devenv.lock", encoding: .utf8))
        let frozen = try second.devenv(["build", "--frozen"])
        #expect(frozen.succeeded, "\(frozen.stderr)")
        let two = try Self.inspect(second)
        #expect(one.layers.count == 3, "busybox, the copy, the run step")
        #expect(one.layers == two.layers)
        #expect(one.config == two.config)
        #expect(one.digest == two.digest)

        let image = try first.devenv(["image", "inspect", "--json", try #require(try first.lastImageName())])
        #expect(!image.stdout.contains(first.root), "no host path in the image: \(image.stdout)")

        let explained = try first.devenv(["build", "--explain"])
        #expect(explained.stderr.contains("copy src -> /src/: cached; layer reproducible"), "\(explained.stderr)")
        #expect(explained.stderr.contains("cp /src/a.txt /out/: cached; layer reproducible only if the command is"), "\(explained.stderr)")

        let verified = try first.devenv(["verify"])
        #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("config: identical \(one.config)") && verified.stdout.hasSuffix("is reproducible\n"), "\(verified.stdout)")
        let left = try FileManager.default.contentsOfDirectory(atPath: first.store).filter { $0.hasPrefix("verify-") }
        #expect(left.isEmpty, "the scratch store is gone: \(left)")

        // A command that is not reproducible: verify names its layer.
        try first.write(".devenv/devenv.toml", Self.manifest + "\n\n[[step]]\nrun = \"cat /proc/sys/kernel/random/uuid > /uuid\"\n")
        #expect(try first.devenv(["build"]).succeeded)
        let differs = try first.devenv(["verify"])
        #expect(differs.status == 1, "\(differs.stdout)\(differs.stderr)")
        #expect(differs.stdout.contains("layer 4/4 devenv: run cat /proc/sys/kernel/random/uuid > /uuid: DIFFERS: recorded sha256:"), "\(differs.stdout)")
        #expect(differs.stdout.contains("layer 3/4") && differs.stdout.contains(": identical sha256:"), "\(differs.stdout)")
    }
}

extension ReproducibleBuildTests {
    /// A Dockerfile base: `verify` copies its FROM image in at the locked digest, runs the
    /// Dockerfile's stages and the project's steps again in a scratch store, and names the
    /// Dockerfile layer whose command is not reproducible.
    @Test(arguments: DevenvUser.allCases)
    func verifyRebuildsADockerfileBase(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let dockerfile = "FROM busybox:it\nCOPY a.txt /a.txt\nRUN echo built > /from-dockerfile\n"
        let project = try ProjectFixture(manifest: "[base]\ndockerfile = \"Dockerfile\"\n\n[[step]]\nrun = \"cat /from-dockerfile /a.txt > /out\"\n", as: user)
        try project.write("a.txt", "a\n")
        try project.write("Dockerfile", dockerfile)
        let built = try project.devenv(["build"])
        try #require(built.succeeded, "\(built.stderr)")
        let verified = try project.devenv(["verify"])
        #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("layer 4/4 devenv: run cat /from-dockerfile /a.txt > /out: identical sha256:"), "\(verified.stdout)")
        #expect(verified.stdout.contains("config: identical sha256:") && verified.stdout.hasSuffix("is reproducible\n"), "\(verified.stdout)")
        let left = try FileManager.default.contentsOfDirectory(atPath: project.store).filter { $0.hasPrefix("verify-") }
        #expect(left.isEmpty, "the scratch store is gone: \(left)")

        try project.write("Dockerfile", dockerfile + "RUN cat /proc/sys/kernel/random/uuid > /uuid\n")
        #expect(try project.devenv(["build"]).succeeded)
        let differs = try project.devenv(["verify"])
        #expect(differs.status == 1, "\(differs.stdout)\(differs.stderr)")
        let line = try #require(differs.stdout.split(separator: "\n").first { $0.hasPrefix("layer 4/5 ") }, "\(differs.stdout)")
        #expect(line.contains("cat /proc/sys/kernel/random/uuid > /uuid: DIFFERS: recorded sha256:") && line.contains(", rebuilt sha256:"), "\(differs.stdout)")
        #expect(differs.stdout.contains("layer 3/5") && differs.stdout.contains("1 layer(s) differ"), "\(differs.stdout)")
    }
}

extension ProjectFixture {
    /// The project's image name, from the last `devenv build --json`.
    func lastImageName() throws -> String? {
        let built = try devenv(["build", "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any])?["image"] as? String
    }
}
