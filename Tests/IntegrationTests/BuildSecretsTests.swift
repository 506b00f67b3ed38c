import DevenvOCI
@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Build secrets end to end, as root and as the unprivileged test user: a step reads the
/// secret (and proves it by writing its SHA-256 into the image), and the secret's unique
/// marker is then in no file of the store (every blob, decompressed too, every snapshot, the
/// build record, the project's state, the warm records), of the project or of /dev/shm.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, and to act as the test user)"), .timeLimit(.minutes(20)))
struct BuildSecretsTests {
    struct Secret {
        let marker = "devenv-secret-marker-\(UUID().uuidString)"
        let path: String
        var sha256: String { Digest.sha256(Data(marker.utf8)).encoded }

        init(in scratch: Scratch, name: String) throws {
            path = scratch.file(name)
            try marker.write(toFile: path, atomically: false, encoding: .utf8)
        }
    }

    @Test(arguments: DevenvUser.allCases)
    func manifestSecretsAreReadByTheStepAndKeptNowhere(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["gzip", "zstd"])
        let sources = try Scratch("devenv-secret-sources")
        let npmrc = try Secret(in: sources, name: "npmrc")
        let token = try Secret(in: sources, name: "token")
        let project = try ProjectFixture(manifest: """
        [base]
        image = "busybox:it"

        [[step]]
        run = "busybox sha256sum < /run/secrets/npmrc > /npmrc.sha && echo \\"MODE=$(stat -c '%a %u' /run/secrets/npmrc)\\" && printf %s \\"$NPM_TOKEN\\" | busybox sha256sum > /token.sha"
        secrets = ["id=npmrc,src=\(npmrc.path)", "id=token,src=\(token.path),env=NPM_TOKEN"]

        [[step]]
        user = "65534:65534"

        [[step]]
        run = "cat /run/secrets/npmrc > /dev/null && echo \\"NOBODY=$(stat -c '%a %u' /run/secrets/npmrc)\\""
        secrets = ["id=npmrc,src=\(npmrc.path)"]

        [[step]]
        user = "0:0"

        [[step]]
        run = "echo \\"GIVEN=$(stat -c '%a %u %g' /run/secrets/npmrc)\\""
        secrets = ["id=npmrc,src=\(npmrc.path),uid=65534,gid=100,mode=0440"]

        [[step]]
        run = "test ! -e /run/secrets/npmrc && test -z \\"$NPM_TOKEN\\""
        """, as: user)
        try project.runner.own(sources.path)
        let built = try project.devenv(["build", "--progress", "plain"])
        #expect(built.status == 0, "\(built.stderr)")
        // Mode 0400 and the step user's, root and rootless (rootless it used to be the
        // invoking user's own id, 0444 for a step user other than root: readable by every user).
        #expect(built.stderr.contains("MODE=400 0"), "\(built.stderr)")
        #expect(built.stderr.contains("NOBODY=400 65534") && built.stderr.contains("GIVEN=440 65534 100"), "\(built.stderr)")

        let read = try project.devenv(["run", "--", "cat", "/npmrc.sha", "/token.sha"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout == "\(npmrc.sha256)  -\n\(token.sha256)  -\n")
        let gone = try project.devenv(["run", "--", "sh", "-c", "test ! -e /run/secrets && env"])
        #expect(gone.status == 0 && !gone.stdout.contains("NPM_TOKEN"), "\(gone.stdout) \(gone.stderr)")
        // A second build with another content is all cache hits: the key names the ids only.
        let changed = "devenv-secret-marker-\(UUID().uuidString)"
        try changed.write(toFile: npmrc.path, atomically: false, encoding: .utf8)
        let again = try project.build()
        #expect(again.steps.allSatisfy { $0["cached"] as? Bool == true }, "\(again.result.stderr)")

        #expect(try Self.files(containing: changed, under: [project.store, project.root, "/dev/shm"]) == [])
        try npmrc.marker.write(toFile: npmrc.path, atomically: false, encoding: .utf8)
        for secret in [npmrc, token] {
            #expect(try Self.files(containing: secret.marker, under: [project.store, project.root, "/dev/shm"]) == [])
        }
        // The search finds what is there: the source itself.
        #expect(try Self.files(containing: npmrc.marker, under: [sources.path]) == [npmrc.path])
        #expect(try Self.leftovers() == [])
    }

    @Test(arguments: DevenvUser.allCases)
    func dockerfileSecretsFromTheCommandLine(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["gzip", "zstd"])
        let sources = try Scratch("devenv-secret-sources")
        let file = try Secret(in: sources, name: "cli")
        let environmentSecret = "devenv-env-marker-\(UUID().uuidString)"
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        try project.write("Dockerfile", """
        FROM busybox:it
        RUN --mount=type=secret,id=cli,required=true busybox sha256sum < /run/secrets/cli > /cli.sha
        RUN --mount=type=secret,id=token,env=TOKEN,required printf %s "$TOKEN" | busybox sha256sum > /env.sha && test ! -e /run/secrets/token
        RUN --mount=type=secret,id=cli,target=/etc/app/key busybox sha256sum < /etc/app/key > /target.sha
        RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent
        RUN test ! -e /run/secrets/cli
        RUN --mount=type=ssh,required test -S "$SSH_AUTH_SOCK" && test "$SSH_AUTH_SOCK" = /run/buildkit/ssh_agent.0
        RUN --mount=type=secret,id=cli,uid=1000,gid=1001,mode=0440 echo "OWNED=$(stat -c '%a %u %g' /run/secrets/cli)"
        USER 1000:1000
        RUN --mount=type=secret,id=cli echo "STEPUSER=$(stat -c '%a %u %g' /run/secrets/cli)" && cat /run/secrets/cli > /dev/null
        USER 65534:65534
        RUN --mount=type=secret,id=cli,uid=1000 cat /run/secrets/cli > /dev/null 2>&1 || echo OTHER=refused
        """)
        let agent = sources.file("agent.sock")
        let listener = try Self.listen(at: agent)
        defer { close(listener) }
        try project.runner.own(sources.path)
        let (program, line) = try project.runner.command(["build", "-f", "Dockerfile", "--progress", "plain",
                                                          "--secret", "id=cli,src=\(file.path)", "--secret", "id=token,env=THE_TOKEN", "--ssh", "default=\(agent)"],
                                                         environment: ["THE_TOKEN": environmentSecret])
        let built = try DevenvProcess.run(program, line, directory: project.root)
        #expect(built.status == 0, "\(built.stderr)")
        // BuildKit's uid, gid and mode; else the step user's, 0400, which another user cannot read.
        #expect(built.stderr.contains("OWNED=440 1000 1001") && built.stderr.contains("STEPUSER=400 1000 1000") && built.stderr.contains("OTHER=refused"),
                "\(built.stderr)")
        let image = try #require(built.stdout.split(separator: " ").first.map(String.init))
        let read = try project.devenv(["run", "--image", image, "--", "cat", "/cli.sha", "/env.sha", "/target.sha"])
        #expect(read.stdout == "\(file.sha256)  -\n\(Digest.sha256(Data(environmentSecret.utf8)).encoded)  -\n\(file.sha256)  -\n", "\(read.stderr)")

        // A required secret without a source stops the build at that step, naming it.
        let missing = try project.devenv(["build", "-f", "Dockerfile", "--no-cache", "--progress", "plain"])
        #expect(missing.status != 0 && missing.stderr.contains("build secret 'cli'"), "\(missing.stderr)")

        for marker in [file.marker, environmentSecret] {
            #expect(try Self.files(containing: marker, under: [project.store, project.root, "/dev/shm"]) == [])
        }
        #expect(try Self.leftovers() == [])
    }

    /// Regular files under `roots` whose bytes, or whose gzip or zstd decompression, hold `marker`.
    static func files(containing marker: String, under roots: [String]) throws -> [String] {
        let needle = Data(marker.utf8)
        var found: [String] = []
        for root in roots {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = walker.nextObject() as? String {
                let path = "\(root)/\(relative)"
                var info = stat()
                guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) else { continue }
                var views = [data]
                if data.starts(with: [0x1F, 0x8B]) { views.append(try decompressed(path, with: "gzip")) }
                if data.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { views.append(try decompressed(path, with: "zstd")) }
                if views.contains(where: { $0.range(of: needle) != nil }) { found.append(path) }
            }
        }
        return found
    }

    private static func decompressed(_ path: String, with tool: String) throws -> Data {
        let result = try DevenvProcess.run(tool, ["-dc", path])
        return Data(result.stdout.utf8)
    }

    /// A listening Unix socket at `path`, standing in for an SSH agent's.
    static func listen(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 1) == 0 else { throw DevenvProcess.Missing(what: "a Unix socket at \(path) (errno \(errno))") }
        return fd
    }

    /// The private directories secrets are staged in, left behind.
    static func leftovers() throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("devenv-secrets.") }
    }
}
