@testable import DevenvTestSupport
import DevenvOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Dockerfile conformance: every Dockerfile under Tests/Fixtures/dockerfiles is built by
/// devenv and by `buildah bud` from the same base image, and the two images must have the
/// same files (type, mode, owner, size, content) and the same run configuration. devenv
/// builds as root and as the unprivileged test user (`DevenvUser`); builds run real
/// containers, and root is needed to act as the test user and for buildah.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("buildah", "podman")))
struct DockerfileTests {
    /// Fixtures built on busybox, and what each may legitimately differ in.
    static let busyboxFixtures = ["multistage", "python-style", "syntax", "copy-semantics", "add-archive", "workdir-user", "scratch-final"]
    static let bookwormFixtures = ["bookworm-app", "bookworm-multistage"]

    @Test(arguments: busyboxFixtures, DevenvUser.allCases)
    func busyboxConformance(_ fixture: String, _ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["buildah", "podman"])
        let bases = try ConformanceBases(as: user)
        try compare(fixture, base: bases.busybox, bases: bases)
    }

    @Test(.enabled(if: Requirement.onCI || ConformanceBases.hasBookworm), arguments: bookwormFixtures, DevenvUser.allCases)
    func bookwormConformance(_ fixture: String, _ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["buildah", "podman"])
        let bases = try ConformanceBases(as: user)
        guard let bookworm = try bases.bookworm() else {
            throw DevenvProcess.Missing(what: "image \(ConformanceBases.bookwormName) in podman's storage (the peers setup creates it)")
        }
        try compare(fixture, base: bookworm, bases: bases)
    }

    /// Builds `fixture` with devenv (as root or rootless) and the peers, and compares the
    /// results. Rootless, snapshots hold the images' owners in the build's id space (issue
    /// 12): a WORKDIR made for a non-root USER is that user's in the next step, and ADD's
    /// archive owners survive, so rootless builds match buildah as root's do.
    private func compare(_ fixture: String, base: String, bases: ConformanceBases) throws {
        let project = try FixtureProject(fixture, bases: bases)
        let built = try project.devenv(["build", "--file", "Dockerfile", "--build-arg", "BASE=\(base)"])
        #expect(built.succeeded, "devenv build of \(fixture): \(built.stderr)")
        guard built.succeeded else { return }
        let devenvImage = try project.loadIntoPodman(tag: try #require(built.stdout.split(separator: " ").first.map(String.init)))
        defer { Podman.remove(devenvImage) }
        let buildahImage = "localhost/dftest-buildah/\(fixture):\(UUID().uuidString.prefix(8).lowercased())"
        let buildah = try DevenvProcess.run("buildah", ["bud", "--pull=never", "--layers=false", "--build-arg", "BASE=\(base)", "-t", buildahImage, "."],
                                            directory: project.root)
        #expect(buildah.succeeded, "buildah bud of \(fixture): \(buildah.stderr)")
        guard buildah.succeeded else { return }
        defer { Podman.remove(buildahImage) }

        let ours = try ImageTree.list(devenvImage)
        let theirs = try ImageTree.list(buildahImage)
        let differences = ImageTree.differences(ours, theirs, ignoring: Self.ignored[fixture] ?? [])
        #expect(differences.isEmpty, "\(fixture): files differ (devenv < > buildah):\n\(differences.prefix(40).joined(separator: "\n"))")
        #expect(ours.count > 0)
        let ourConfig = try Podman.config(devenvImage)
        let theirConfig = try Podman.config(buildahImage)
        #expect(ourConfig == theirConfig, "\(fixture): configs differ:\ndevenv:  \(ourConfig)\nbuildah: \(theirConfig)")
    }

    /// Mount points that buildah leaves behind in a RUN layer (devenv drops them) may be
    /// missing on devenv's side.
    static let ignored: [String: Set<String>] = [
        "python-style": ["/root/.cache", "/root/.cache/pip"],
    ]

    // MARK: devenv only

    /// Heredocs (buildah 1.28 cannot parse them): the documents' contents as BuildKit makes them.
    @Test(arguments: DevenvUser.allCases)
    func heredocs(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["buildah", "podman"])
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject("heredoc", bases: bases)
        let built = try project.devenv(["build", "--file", "Dockerfile", "--build-arg", "BASE=\(bases.busybox)"])
        #expect(built.succeeded, "\(built.stderr)")
        let image = try project.loadIntoPodman(tag: try #require(built.stdout.split(separator: " ").first.map(String.init)))
        defer { Podman.remove(image) }
        let files = try ImageTree.contents(image, ["/script.txt", "/literal.txt", "/indented.txt", "/etc/app.conf", "/etc/raw.conf", "/usr/local/bin/greet"])
        #expect(files["/script.txt"] == "script heredoc\nhello world\n")
        #expect(files["/literal.txt"] == "$NAME stays literal\n")
        #expect(files["/indented.txt"] == "tabs are stripped for world\n")
        #expect(files["/etc/app.conf"] == "name=world\n")
        #expect(files["/etc/raw.conf"] == "name=${NAME}\n")
        #expect(files["/usr/local/bin/greet"] == "#!/bin/sh\necho greetings\n")
        let tree = try ImageTree.list(image)
        #expect(tree["/usr/local/bin/greet"]?.hasPrefix("f 755 0:0 ") == true, "\(tree["/usr/local/bin/greet"] ?? "missing")")
        #expect(tree["/etc/app.conf"]?.hasPrefix("f 644 0:0 ") == true)
    }

    /// HEALTHCHECK and ONBUILD land in the image config as Docker's fields (what BuildKit
    /// writes, and what docker and podman read); an image built on it runs the triggers and
    /// does not pass them on.
    @Test(arguments: DevenvUser.allCases)
    func healthcheckAndOnbuildInTheImageConfig(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["podman"])
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write("Dockerfile", """
            FROM \(bases.busybox)
            HEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD ["/bin/true"]
            ONBUILD RUN echo triggered > /onbuild.txt
            ONBUILD ENV FROM_TRIGGER=1

            """)
        let built = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(built.succeeded, "\(built.stderr)")
        let tag = try #require(built.stdout.split(separator: " ").first.map(String.init))
        let config = try project.exportedConfig(tag)
        let healthcheck = config["Healthcheck"] as? [String: Any]
        #expect(healthcheck?["Test"] as? [String] == ["CMD", "/bin/true"], "\(config)")
        #expect(healthcheck?["Interval"] as? Int == 5_000_000_000 && healthcheck?["Timeout"] as? Int == 2_000_000_000)
        #expect(healthcheck?["Retries"] as? Int == 3 && healthcheck?["StartPeriod"] == nil)
        #expect(config["OnBuild"] as? [String] == ["RUN echo triggered > /onbuild.txt", "ENV FROM_TRIGGER=1"])
        let image = try project.loadIntoPodman(tag: tag)
        defer { Podman.remove(image) }
        let inspected = try DevenvProcess.run("podman", ["image", "inspect", image])
        let podmanView = (try? JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]])?.first
        #expect((podmanView?["Healthcheck"] as? [String: Any])?["Test"] as? [String] == ["CMD", "/bin/true"], "podman: \(inspected.stderr)")

        try project.write("Dockerfile", "FROM \(tag)\nHEALTHCHECK NONE\nRUN cat /onbuild.txt > /seen.txt\n")
        let child = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(child.succeeded, "\(child.stderr)")
        let childTag = try #require(child.stdout.split(separator: " ").first.map(String.init))
        let childConfig = try project.exportedConfig(childTag)
        #expect(childConfig["OnBuild"] == nil, "\(childConfig)")
        #expect((childConfig["Healthcheck"] as? [String: Any])?["Test"] as? [String] == ["NONE"])
        #expect((childConfig["Env"] as? [String])?.contains("FROM_TRIGGER=1") == true)
        let childImage = try project.loadIntoPodman(tag: childTag)
        defer { Podman.remove(childImage) }
        #expect(try ImageTree.contents(childImage, ["/seen.txt"])["/seen.txt"] == "triggered\n")
    }

    /// ONBUILD triggers of a base pulled from a registry run in the stage built on it, and an
    /// earlier stage's own triggers run in the stage built on that stage; neither is passed on.
    @Test(arguments: DevenvUser.allCases)
    func onbuildTriggersOfARegistryBaseAndOfAnEarlierStage(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["podman", "docker-registry"])
        let bases = try ConformanceBases(as: user)
        let registry = try TestRegistry()
        defer { registry.stop() }
        let project = try FixtureProject(nil, bases: bases)
        try project.write("Dockerfile", "FROM \(bases.busybox)\nONBUILD RUN echo from-registry > /registry.txt\nONBUILD ENV TRIGGERED=registry\n")
        let published = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(published.succeeded, "\(published.stderr)")
        let remote = "\(registry.authority)/onbuild/base:1"
        let pushed = try project.devenv(["push", try #require(published.stdout.split(separator: " ").first.map(String.init)), remote])
        #expect(pushed.succeeded, "\(pushed.stderr)")

        try project.write("Dockerfile", """
            FROM \(remote) AS tools
            ONBUILD RUN echo from-stage > /stage.txt
            RUN cat /registry.txt > /seen-registry.txt
            FROM tools
            RUN cat /stage.txt /seen-registry.txt > /seen.txt

            """)
        let built = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(built.succeeded, "\(built.stderr)")
        let tag = try #require(built.stdout.split(separator: " ").first.map(String.init))
        let config = try project.exportedConfig(tag)
        #expect(config["OnBuild"] == nil, "\(config)")
        #expect((config["Env"] as? [String])?.contains("TRIGGERED=registry") == true, "\(config)")
        let image = try project.loadIntoPodman(tag: tag)
        defer { Podman.remove(image) }
        #expect(try ImageTree.contents(image, ["/seen.txt"])["/seen.txt"] == "from-stage\nfrom-registry\n")

        let tools = try project.devenv(["build", "--file", "Dockerfile", "--target", "tools"])
        #expect(tools.succeeded, "\(tools.stderr)")
        let toolsConfig = try project.exportedConfig(try #require(tools.stdout.split(separator: " ").first.map(String.init)))
        #expect(toolsConfig["OnBuild"] as? [String] == ["RUN echo from-stage > /stage.txt"], "\(toolsConfig)")
    }

    /// ADD of http URLs against a loopback server: the file keeps the URL's last segment in a
    /// directory, is mode 0600 unless --chmod, is not unpacked, follows redirects, and
    /// --checksum is verified (a wrong one fails the build, a right one is fetched once).
    /// https takes the same libcurl path with certificate checks; the test servers have no TLS.
    @Test(arguments: DevenvUser.allCases)
    func addFromAURL(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["podman"])
        let bases = try ConformanceBases(as: user)
        let payload = Data("downloaded payload\n".utf8)
        let requests = RequestLog()
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                requests.append(request.path)
                switch request.path {
                case "/files/tool.txt", "/files/archive.tar.gz": _ = connection.respond(status: 200, body: payload)
                case "/redirect": _ = connection.respond(status: 302, headers: ["Location": "/files/tool.txt"])
                default: _ = connection.respond(status: 404)
                }
            }
        }
        defer { server.stop() }
        let base = "http://\(server.authority)"
        let digest = Digest.sha256(payload)
        let project = try FixtureProject(nil, bases: bases)
        try project.write("Dockerfile", """
            FROM \(bases.busybox)
            ADD \(base)/files/tool.txt \(base)/files/archive.tar.gz /opt/
            ADD --checksum=\(digest) \(base)/redirect /opt/checked.txt
            ADD --chmod=755 \(base)/files/tool.txt /opt/exec

            """)
        let built = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(built.succeeded, "\(built.stderr)")
        let image = try project.loadIntoPodman(tag: try #require(built.stdout.split(separator: " ").first.map(String.init)))
        defer { Podman.remove(image) }
        let files = try ImageTree.contents(image, ["/opt/tool.txt", "/opt/archive.tar.gz", "/opt/checked.txt", "/opt/exec"])
        #expect(files.values.allSatisfy { $0 == "downloaded payload\n" } && files.count == 4, "\(files)")
        let tree = try ImageTree.list(image)
        #expect(tree["/opt/tool.txt"]?.hasPrefix("f 600 0:0 ") == true, "\(tree["/opt/tool.txt"] ?? "missing")")
        #expect(tree["/opt/exec"]?.hasPrefix("f 755 0:0 ") == true, "\(tree["/opt/exec"] ?? "missing")")

        // Unchanged content: every step is cached; the checksummed file is not fetched again.
        requests.clear()
        let again = try project.buildSteps(["build", "--json", "--file", "Dockerfile"])
        #expect(again.allSatisfy { $0["cached"] as? Bool == true }, "\(again)")
        #expect(!requests.paths.contains("/redirect"), "\(requests.paths)")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD --checksum=sha256:\(String(repeating: "0", count: 64)) \(base)/files/tool.txt /x\n")
        let mismatch = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(!mismatch.succeeded)
        #expect(mismatch.stderr.contains("Dockerfile:2: ADD \(base)/files/tool.txt: download \(base)/files/tool.txt: the file's digest is \(digest), --checksum expects sha256:000"), "\(mismatch.stderr)")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD \(base)/missing /x\n")
        let missing = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(missing.stderr.contains("Dockerfile:2: ADD \(base)/missing: download \(base)/missing: the server answered 404"), "\(missing.stderr)")
    }

    /// ADD of https URLs from a real TLS server whose CA devenv is told to trust through
    /// SSL_CERT_FILE: the file keeps `Last-Modified` as its mtime, a redirect is followed, a
    /// checksummed file is fetched once, a changed `Last-Modified` alone reruns the step (part
    /// of the key, as BuildKit's); a wrong checksum, a 404 and an untrusted certificate are
    /// errors naming the line and the URL.
    @Test(arguments: DevenvUser.allCases)
    func addFromAnHTTPSURL(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["podman", "openssl", "python3"])
        let bases = try ConformanceBases(as: user)
        let server = try TLSFileServer(redirects: ["/moved": "/files/tool.txt"])
        defer { server.stop() }
        let payload = Data("fetched over TLS\n".utf8)
        let modified = 784_111_777
        try server.put("files/tool.txt", payload, modified: Date(timeIntervalSince1970: TimeInterval(modified)))
        // CA variables in the test's own environment (a CURL_CA_BUNDLE would win) do not apply.
        let system = ["CURL_CA_BUNDLE": "", "SSL_CERT_DIR": "", "SSL_CERT_FILE": ""]
        let trust = system.merging(["SSL_CERT_FILE": server.caCertificate]) { $1 }
        let digest = Digest.sha256(payload)
        let project = try FixtureProject(nil, bases: bases)
        try project.write("Dockerfile", """
            FROM \(bases.busybox)
            ADD \(server.base)/files/tool.txt /opt/
            ADD --checksum=\(digest) \(server.base)/moved /opt/checked.txt

            """)
        let built = try project.devenv(["build", "--file", "Dockerfile"], environment: trust)
        #expect(built.succeeded, "\(built.stderr)")
        let tag = try #require(built.stdout.split(separator: " ").first.map(String.init))
        let image = try project.loadIntoPodman(tag: tag)
        defer { Podman.remove(image) }
        let files = try ImageTree.contents(image, ["/opt/tool.txt", "/opt/checked.txt"])
        #expect(files == ["/opt/tool.txt": "fetched over TLS\n", "/opt/checked.txt": "fetched over TLS\n"], "\(files)")
        #expect(try ImageTree.modificationTimes(image, ["/opt/tool.txt", "/opt/checked.txt"]) == ["/opt/tool.txt": modified, "/opt/checked.txt": modified])

        // Unchanged: both cached; the URL without a checksum is revalidated with its ETag (304,
        // not downloaded again), the checksummed one is not asked for.
        server.clearRequests()
        let again = try project.buildSteps(["build", "--json", "--file", "Dockerfile"], environment: trust)
        #expect(again.allSatisfy { $0["cached"] as? Bool == true }, "\(again)")
        #expect(server.responses == ["304 /files/tool.txt"], "\(server.responses)")

        // Same bytes, a newer Last-Modified: the first ADD runs again (and so the next) and the
        // file has the new time; the checksummed file is still not fetched.
        server.clearRequests()
        try server.put("files/tool.txt", payload, modified: Date(timeIntervalSince1970: TimeInterval(modified + 3600)))
        let touched = try project.buildSteps(["build", "--json", "--file", "Dockerfile"], environment: trust)
        #expect(touched.map { $0["cached"] as? Bool } == [false, false], "\(touched)")
        #expect(server.responses == ["200 /files/tool.txt"], "\(server.responses)")
        #expect(touched.first?["reason"] as? String == "\(server.base)/files/tool.txt modification time changed (\(modified) -> \(modified + 3600))", "\(touched)")
        let touchedImage = try project.loadIntoPodman(tag: try #require(project.lastImage))
        defer { Podman.remove(touchedImage) }
        #expect(try ImageTree.modificationTimes(touchedImage, ["/opt/tool.txt"]) == ["/opt/tool.txt": modified + 3600])

        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD --checksum=sha256:\(String(repeating: "0", count: 64)) \(server.base)/files/tool.txt /x\n")
        let mismatch = try project.devenv(["build", "--file", "Dockerfile"], environment: trust)
        #expect(!mismatch.succeeded)
        #expect(mismatch.stderr.contains("Dockerfile:2: ADD \(server.base)/files/tool.txt: download \(server.base)/files/tool.txt: the file's digest is \(digest), --checksum expects sha256:000"), "\(mismatch.stderr)")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD \(server.base)/missing.txt /x\n")
        let missing = try project.devenv(["build", "--file", "Dockerfile"], environment: trust)
        #expect(!missing.succeeded)
        #expect(missing.stderr.contains("Dockerfile:2: ADD \(server.base)/missing.txt: download \(server.base)/missing.txt: the server answered 404"), "\(missing.stderr)")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD \(server.base)/files/tool.txt /x\n")
        let untrusted = try project.devenv(["build", "--file", "Dockerfile"], environment: system)
        #expect(!untrusted.succeeded)
        #expect(untrusted.stderr.contains("Dockerfile:2: ADD \(server.base)/files/tool.txt: download \(server.base)/files/tool.txt: TLS failed: the server's certificate is not trusted"), "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("set SSL_CERT_FILE to a PEM file with that CA's certificate"), "\(untrusted.stderr)")
    }

    /// ADD of git repositories (served by `git daemon` on loopback, cloned through libgit2):
    /// the default branch, a tag with a subdirectory, and --keep-git-dir; modes kept, `.git`
    /// dropped unless asked for, an unknown ref a located error.
    @Test(arguments: DevenvUser.allCases)
    func addFromAGitRepository(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["podman", "git"])
        let bases = try ConformanceBases(as: user)
        let repositories = try GitDaemon()
        defer { repositories.stop() }
        let url = "git://127.0.0.1:\(repositories.port)/repo.git"
        let project = try FixtureProject(nil, bases: bases)
        try project.write("Dockerfile", """
            FROM \(bases.busybox)
            ADD \(url) /src/
            ADD \(url)#v1:sub /v1sub/
            ADD --keep-git-dir \(url)#v1 /kept/

            """)
        let built = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(built.succeeded, "\(built.stderr)")
        guard built.succeeded else { return }
        let image = try project.loadIntoPodman(tag: try #require(built.stdout.split(separator: " ").first.map(String.init)))
        defer { Podman.remove(image) }
        let files = try ImageTree.contents(image, ["/src/README", "/v1sub/inner.txt", "/kept/README"])
        #expect(files["/src/README"] == "second\n" && files["/kept/README"] == "first\n" && files["/v1sub/inner.txt"] == "inner\n", "\(files)")
        let tree = try ImageTree.list(image)
        #expect(tree["/src/bin/tool.sh"]?.hasPrefix("f 755 0:0 ") == true, "\(tree["/src/bin/tool.sh"] ?? "missing")")
        #expect(tree["/src/.git"] == nil && tree["/v1sub/README"] == nil && tree["/kept/.git/HEAD"] != nil)

        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD \(url)#no-such-ref /x/\n")
        let missing = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(missing.stderr.contains("Dockerfile:2: ADD \(url): clone \(url)"), "\(missing.stderr)")
        #expect(missing.stderr.contains("no branch, tag or commit 'no-such-ref'"), "\(missing.stderr)")
    }

    /// Every instruction is a cached step: an unchanged build reruns nothing, a changed
    /// file reruns the COPY that reads it and what follows, and `--explain` says why.
    @Test(arguments: DevenvUser.allCases)
    func cachingAndExplanations(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject("multistage", bases: bases)
        let arguments = ["build", "--json", "--file", "Dockerfile", "--build-arg", "BASE=\(bases.busybox)"]
        let first = try project.devenv(arguments)
        #expect(first.succeeded, "\(first.stderr)")
        let second = try project.buildSteps(arguments)
        #expect(second.allSatisfy { $0["cached"] as? Bool == true }, "\(second)")
        #expect(second.count == 10)

        try "echo changed\n".write(toFile: "\(project.root)/src/main.txt", atomically: false, encoding: .utf8)
        let third = try project.buildSteps(arguments)
        let rebuilt = third.filter { $0["cached"] as? Bool == false }
        #expect(rebuilt.first?["location"] as? String == "Dockerfile:8")
        #expect((rebuilt.first?["reason"] as? String)?.hasPrefix("src/main.txt changed (") == true, "\(rebuilt)")
        // The final stage copies /out/app, which changed; BUILD_INFO did not.
        let copies = third.filter { ($0["summary"] as? String)?.contains("COPY --from=builder") == true }
        #expect(copies.map { $0["cached"] as? Bool } == [false, false])
        #expect((copies.first?["reason"] as? String)?.hasPrefix("builder:/out/app changed") == true, "\(copies)")

        let argument = try project.buildSteps(arguments + ["--build-arg", "VERSION=9"])
        let changed = argument.first { $0["cached"] as? Bool == false }
        #expect(changed?["reason"] as? String == "the step changed: 'build arguments VERSION=1.2.3' -> 'build arguments VERSION=9'", "\(argument)")

        let explained = try project.devenv(["build", "--explain", "--file", "Dockerfile", "--build-arg", "BASE=\(bases.busybox)", "--target", "test"])
        #expect(explained.succeeded)
        #expect(explained.stderr.contains("step 4/4 Dockerfile:15: [test] RUN /out/app > /test-output: rebuilt (not built before)"), "\(explained.stderr)")
        #expect(explained.stderr.contains("step 1/4 Dockerfile:7: [builder] WORKDIR /src: cached"), "\(explained.stderr)")
    }

    @Test(arguments: DevenvUser.allCases)
    func errorsNameTheLineAndExitDistinctly(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write("Dockerfile", "FROM \(bases.busybox)\nRUNN make\nCOPY --bogus=1 a b\n")
        let syntax = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(syntax.status == 65)
        #expect(syntax.stderr.contains("Dockerfile:2:1: error: unknown instruction 'RUNN' (did you mean 'RUN'?)\n 2 | RUNN make\n   | ^~~~"), "\(syntax.stderr)")
        #expect(syntax.stderr.contains("Dockerfile:3:6: error: unknown flag '--bogus' for COPY"))

        try project.write("Dockerfile", "FROM \(bases.busybox)\nRUN true\nFROM localhost/no/such:image\n")
        let missing = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("Dockerfile:3:6: image 'localhost/no/such:image' not found in the store"), "\(missing.stderr)")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nRUN --security=insecure true\n")
        let unsupported = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(unsupported.status == 65)
        #expect(unsupported.stderr.contains("Dockerfile:2:16: error: RUN --security=insecure is not supported"), "\(unsupported.stderr)")

        // A malformed .dockerignore pattern fails the build at its line, as in Docker.
        try project.write(".dockerignore", "ok\n[\n")
        try project.write("Dockerfile", "FROM \(bases.busybox)\nRUN true\n")
        let ignore = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(ignore.status == 65)
        #expect(ignore.stderr.contains(".dockerignore:2:1: error: syntax error in pattern"), "\(ignore.stderr)")
        unlink("\(project.root)/.dockerignore")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nRUN exit 7\n")
        let failed = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(failed.status == 68)
        #expect(failed.stderr.contains("Dockerfile:2: build step 1 failed with exit status 7: RUN exit 7"), "\(failed.stderr)")

        try project.write("Dockerfile", "FROM \(bases.busybox)\nCOPY missing.txt /\n")
        let source = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(source.stderr.contains("Dockerfile:2: COPY source 'missing.txt' is not in the build context"), "\(source.stderr)")
    }

    /// Hostile build inputs: cache ids, stage symlinks, context symlinks and image
    /// symlinks in destinations never reach the host.
    @Test(arguments: DevenvUser.allCases)
    func hostileInputsStayInside(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["buildah", "podman"])
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        let canary = "devenv-canary-\(UUID().uuidString.prefix(8))"
        try "host secret\n".write(toFile: "/tmp/\(canary)", atomically: true, encoding: .utf8)
        defer { unlink("/tmp/\(canary)"); rmdir("/tmp/\(canary)-escape") }
        try project.write("file.txt", "payload\n")
        try FileManager.default.createSymbolicLink(atPath: "\(project.root)/evil", withDestinationPath: "/etc/passwd")
        try FileManager.default.createDirectory(atPath: "\(project.root)/dir", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(project.root)/dir/inner", withDestinationPath: "/etc/passwd")

        // A cache id that climbs out is only a name.
        try project.write("Dockerfile", """
            FROM \(bases.busybox) AS a
            RUN --mount=type=cache,id=../../../../../../../../tmp/\(canary)-escape,target=/c touch /c/escaped
            RUN ln -s / /rootdir && ln -s /tmp /hosttmp && ln -s /etc /evil-etc && ln -s ../../../../../tmp /climb
            COPY file.txt /evil-etc/pwned
            COPY file.txt /climb/\(canary)-written
            COPY dir /copied-dir/
            FROM a
            COPY --from=a /rootdir/etc/passwd /image-passwd
            """)
        let built = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(built.succeeded, "\(built.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(canary)-escape"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/pwned"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(canary)-written"))
        let image = try project.loadIntoPodman(tag: try #require(project.lastImage))
        defer { Podman.remove(image) }
        let files = try ImageTree.contents(image, ["/etc/pwned", "/tmp/\(canary)-written", "/image-passwd", "/etc/passwd"])
        #expect(files["/etc/pwned"] == "payload\n")
        #expect(files["/tmp/\(canary)-written"] == "payload\n")
        #expect(files["/image-passwd"] == files["/etc/passwd"])
        let copied = try ImageTree.list(image)["/copied-dir/inner"]
        #expect(copied?.hasPrefix("l ") == true && copied?.hasSuffix(" -> /etc/passwd") == true, "a symlink inside a copied directory stays a symlink")
        #expect(copied == "l 0:0 -> /etc/passwd")

        // A stage's symlink to the root resolves inside the stage, never on the host.
        try project.write("Dockerfile", "FROM \(bases.busybox) AS a\nRUN ln -s /tmp /hosttmp\nFROM a\nCOPY --from=a /hosttmp/\(canary) /leak\n")
        let leak = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(leak.status != 0)
        #expect(leak.stderr.contains("'/hosttmp/\(canary)' does not exist there"), "\(leak.stderr)")

        // A context symlink named as a source may not leave the context.
        try project.write("Dockerfile", "FROM \(bases.busybox)\nCOPY evil /x\n")
        let outside = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(outside.status != 0)
        #expect(outside.stderr.contains("Dockerfile:2: COPY source 'evil' leads outside the build context through a symlink"), "\(outside.stderr)")

        // An archive whose entries climb out fails the step; nothing lands outside.
        let archive = "\(project.root)/climb.tar"
        let made = try DevenvProcess.run("python3", ["-c", """
            import tarfile, io
            with tarfile.open('\(archive)', 'w') as t:
                data = b'escaped'
                info = tarfile.TarInfo('../../../../../../tmp/\(canary)-tar')
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            """])
        #expect(made.succeeded, "\(made.stderr)")
        try project.write("Dockerfile", "FROM \(bases.busybox)\nADD climb.tar /opt/\n")
        let climbed = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(canary)-tar"))
        #expect(climbed.status != 0 || !FileManager.default.fileExists(atPath: "/tmp/\(canary)-tar"))
    }

    /// `[base] dockerfile` in a devenv.toml: the Dockerfile's target, then the manifest's steps.
    @Test(arguments: DevenvUser.allCases)
    func manifestOnTopOfADockerfile(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject("multistage", bases: bases)
        try project.write(".devenv/devenv.toml", """
            [base]
            dockerfile = "Dockerfile"
            target = "builder"
            args = { BASE = "\(bases.busybox)", VERSION = "7.7" }

            [[step]]
            run = "/out/app > /from-manifest"
            """)
        let built = try project.buildSteps(["build", "--json", "--explain"])
        #expect(built.count == 4, "\(built)")
        #expect(built.last?["location"] as? String == ".devenv/devenv.toml:7")
        #expect(built.first?["location"] as? String == "Dockerfile:7")
        let image = try project.loadIntoPodman(tag: try #require(project.lastImage))
        defer { Podman.remove(image) }
        #expect(try ImageTree.contents(image, ["/from-manifest"])["/from-manifest"] == "app 7.7\nmain\n")
        // The build locked the Dockerfile, its FROM images and the manifest's steps.
        let lock = try String(contentsOfFile: "\(project.root)/.devenv/devenv.lock", encoding: .utf8)
        #expect(lock.contains("dockerfile = \"Dockerfile\"") && lock.contains("[images]\n\"\(bases.busybox)\" = \"sha256:"), "\(lock)")
        let frozen = try project.devenv(["build", "--frozen"])
        #expect(frozen.succeeded, "\(frozen.stderr)")
        try project.write("Dockerfile", try String(contentsOfFile: "\(project.root)/Dockerfile", encoding: .utf8) + "\nRUN true\n")
        let edited = try project.devenv(["build", "--frozen"])
        #expect(edited.status == 67 && edited.stderr.contains("base Dockerfile: changed sha256:"), "\(edited.stderr)")
    }
}

// MARK: - Support

/// Base images both builders can use: the same busybox (and bookworm) content in devenv's
/// store and in podman's storage, under a name unique to the test.
final class ConformanceBases: @unchecked Sendable {
    static let bookwormName = "localhost/base/bookworm:12"
    static let peersBusybox = "/var/lib/devenv-peers/src/busybox-rootfs.tar"
    let scratch: Scratch
    let runner: DevenvRunner
    let busybox: String
    private var bookwormImported = false

    var store: String { runner.store }

    static var hasBookworm: Bool {
        (try? DevenvProcess.run("podman", ["image", "exists", bookwormName]).succeeded) ?? false
    }

    /// Each test gets its own store (used as `user`) and base name; both go away with the value.
    init(as user: DevenvUser = .root) throws {
        scratch = try Scratch("devenv-dockerfile")
        busybox = "localhost/dftest-base/busybox:\(UUID().uuidString.prefix(8).lowercased())"
        let rootfs = FileManager.default.fileExists(atPath: Self.peersBusybox) ? Self.peersBusybox : try Self.fullBusyboxRootfs(in: scratch)
        runner = try DevenvRunner(user, scratch: scratch)
        let imported = try runner.devenv(["image", "import", rootfs, "--tag", busybox])
        guard imported.succeeded else { throw DevenvProcess.Missing(what: "a busybox base: \(imported.stderr)") }
        let archive = scratch.file("busybox-base.tar")
        let exported = try runner.devenv(["image", "export", busybox, "--output", archive, "--format", "docker"])
        guard exported.succeeded else { throw DevenvProcess.Missing(what: "an exported busybox base: \(exported.stderr)") }
        let loaded = try DevenvProcess.run("podman", ["load", "-q", "-i", archive])
        guard loaded.succeeded else { throw DevenvProcess.Missing(what: "podman load of the busybox base: \(loaded.stderr)") }
    }

    deinit { Podman.remove(busybox) }

    /// bookworm from podman's storage, imported into devenv's store once.
    func bookworm() throws -> String? {
        guard Self.hasBookworm else { return nil }
        if bookwormImported { return Self.bookwormName }
        let archive = scratch.file("bookworm.tar")
        let saved = try DevenvProcess.run("podman", ["save", "--format", "oci-archive", "-o", archive, Self.bookwormName])
        guard saved.succeeded else { throw DevenvProcess.Missing(what: "podman save \(Self.bookwormName): \(saved.stderr)") }
        try runner.own(archive)
        let imported = try runner.devenv(["image", "import", archive, "--tag", Self.bookwormName])
        guard imported.succeeded else { throw DevenvProcess.Missing(what: "importing bookworm: \(imported.stderr)") }
        unlink(archive)
        bookwormImported = true
        return Self.bookwormName
    }

    /// busybox-static with every applet linked, when the peers' rootfs is not there.
    private static func fullBusyboxRootfs(in scratch: Scratch) throws -> String {
        let root = try Fixtures.busyboxRoot(in: scratch)
        let list = try DevenvProcess.run("\(root)/bin/busybox", ["--list"])
        for applet in list.stdout.split(separator: "\n") where !FileManager.default.fileExists(atPath: "\(root)/bin/\(applet)") {
            try FileManager.default.createSymbolicLink(atPath: "\(root)/bin/\(applet)", withDestinationPath: "busybox")
        }
        let tarball = scratch.file("busybox-full.tar")
        let result = try DevenvProcess.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tarball, "."])
        guard result.succeeded else { throw DevenvProcess.Missing(what: "a working tar: \(result.stderr)") }
        return tarball
    }
}

/// A copy of a fixture directory (modes git cannot record are set here) built against the
/// store of `bases`, as its user (who owns the copy).
final class FixtureProject {
    let scratch: Scratch
    let root: String
    let runner: DevenvRunner
    private(set) var lastImage: String?

    var store: String { runner.store }

    init(_ fixture: String?, bases: ConformanceBases) throws {
        scratch = try Scratch("devenv-dockerfile-project")
        root = scratch.file("project")
        runner = bases.runner
        if let fixture {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/dockerfiles/\(fixture)").path
            let copied = try DevenvProcess.run("cp", ["-a", source, root])
            guard copied.succeeded else { throw DevenvProcess.Missing(what: "fixture \(fixture): \(copied.stderr)") }
        } else {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
        if fixture == "copy-semantics" {
            chmod("\(root)/tree/sub/deep", 0o700)
            try FileManager.default.createDirectory(atPath: "\(root)/tree/empty-dir", withIntermediateDirectories: true)
        }
        try runner.own(scratch.path)
    }

    /// Writes a project file (as the project's user).
    func write(_ relative: String, _ contents: String) throws {
        let path = "\(root)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        try runner.own("\(root)/\(relative.split(separator: "/").first ?? "")")
    }

    func devenv(_ arguments: [String], environment: [String: String] = [:]) throws -> DevenvProcess.Result {
        let result = try runner.devenv(arguments, environment: environment, directory: root)
        if result.succeeded, let name = result.stdout.split(separator: " ").first, !arguments.contains("--json") {
            lastImage = String(name)
        }
        return result
    }

    /// `devenv build --json`'s steps.
    func buildSteps(_ arguments: [String], environment: [String: String] = [:]) throws -> [[String: Any]] {
        let result = try devenv(arguments, environment: environment)
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        if let image = object?["image"] as? String { lastImage = image }
        guard result.succeeded, let steps = object?["steps"] as? [[String: Any]] else {
            throw DevenvProcess.Missing(what: "a successful build: \(result.stderr)")
        }
        return steps
    }

    /// The run configuration (`config` of the image config) of an image in devenv's store,
    /// read from a `docker save` export as any consumer of the image would.
    func exportedConfig(_ tag: String) throws -> [String: Any] {
        let archive = scratch.file("config-\(UUID().uuidString.prefix(8)).tar")
        let exported = try runner.devenv(["image", "export", tag, "--output", archive, "--format", "docker"])
        guard exported.succeeded else { throw DevenvProcess.Missing(what: "an exported image: \(exported.stderr)") }
        defer { unlink(archive) }
        let manifest = try DevenvProcess.run("tar", ["-xOf", archive, "manifest.json"])
        guard let entries = try JSONSerialization.jsonObject(with: Data(manifest.stdout.utf8)) as? [[String: Any]],
              let name = entries.first?["Config"] as? String else { throw DevenvProcess.Missing(what: "manifest.json in the export") }
        let config = try DevenvProcess.run("tar", ["-xOf", archive, name])
        guard let object = try JSONSerialization.jsonObject(with: Data(config.stdout.utf8)) as? [String: Any],
              let run = object["config"] as? [String: Any] else { throw DevenvProcess.Missing(what: "\(name) in the export") }
        return run
    }

    /// Exports the image from devenv and loads it into podman; returns podman's name for it.
    func loadIntoPodman(tag: String) throws -> String {
        let archive = scratch.file("export-\(UUID().uuidString.prefix(8)).tar")
        let exported = try runner.devenv(["image", "export", tag, "--output", archive, "--format", "docker"])
        guard exported.succeeded else { throw DevenvProcess.Missing(what: "an exported image: \(exported.stderr)") }
        defer { unlink(archive) }
        let loaded = try DevenvProcess.run("podman", ["load", "-q", "-i", archive])
        guard loaded.succeeded else { throw DevenvProcess.Missing(what: "podman load: \(loaded.stderr)") }
        return (try? Reference(parsing: tag))?.description ?? tag
    }
}

enum Podman {
    static func remove(_ image: String) {
        _ = try? DevenvProcess.run("podman", ["rmi", "-f", image])
    }

    /// The parts of an image's configuration a Dockerfile sets, normalized: Env as a sorted
    /// list (buildah reorders a replaced variable), labels without each builder's own.
    static func config(_ image: String) throws -> String {
        let inspected = try DevenvProcess.run("podman", ["image", "inspect", image])
        guard inspected.succeeded, let list = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]],
              var config = list.first?["Config"] as? [String: Any] else {
            throw DevenvProcess.Missing(what: "podman image inspect \(image): \(inspected.stderr)")
        }
        config = config.filter { ["Env", "WorkingDir", "User", "Entrypoint", "Cmd", "Labels", "ExposedPorts", "Volumes", "StopSignal"].contains($0.key) }
        if let env = config["Env"] as? [String] { config["Env"] = env.sorted() }
        var labels = config["Labels"] as? [String: String] ?? [:]
        for key in ["io.buildah.version", "dev.devenv.project", "org.opencontainers.image.title", "org.opencontainers.image.revision"] {
            labels.removeValue(forKey: key)
        }
        config["Labels"] = labels.isEmpty ? nil : labels
        if (config["WorkingDir"] as? String)?.isEmpty == true { config["WorkingDir"] = nil }
        if (config["User"] as? String)?.isEmpty == true { config["User"] = nil }
        let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// An image's files as `type mode uid:gid size sha256|target` lines by path, read from a
/// buildah mount of the image.
enum ImageTree {
    /// Empty files that RUN steps leave behind as mount points (with builder-specific modes).
    static let mountStubs: Set<String> = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]

    static func list(_ image: String) throws -> [String: String] {
        try mounted(image) { root in
            var entries: [String: String] = [:]
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [:] }
            while let relative = enumerator.nextObject() as? String {
                let path = "\(root)/\(relative)"
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                let mode = String(UInt32(info.st_mode) & 0o7777, radix: 8)
                let owner = "\(info.st_uid):\(info.st_gid)"
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    entries["/" + relative] = "f \(mode) \(owner) \(info.st_size) \(try digest(path).short)"
                case S_IFDIR:
                    entries["/" + relative] = "d \(mode) \(owner)"
                case S_IFLNK:
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                    entries["/" + relative] = "l \(owner) -> \(target)"
                default:
                    entries["/" + relative] = "other \(mode) \(owner) \(info.st_rdev)"
                }
            }
            return entries
        }
    }

    /// The mtimes (seconds since the epoch) of `paths` in the image.
    static func modificationTimes(_ image: String, _ paths: [String]) throws -> [String: Int] {
        try mounted(image) { root in
            var result: [String: Int] = [:]
            for path in paths {
                var info = stat()
                if lstat(root + path, &info) == 0 { result[path] = info.st_mtim.tv_sec }
            }
            return result
        }
    }

    static func contents(_ image: String, _ paths: [String]) throws -> [String: String] {
        try mounted(image) { root in
            var result: [String: String] = [:]
            for path in paths {
                if let data = FileManager.default.contents(atPath: root + path) { result[path] = String(decoding: data, as: UTF8.self) }
            }
            return result
        }
    }

    /// `< path: ours` / `> path: theirs` for each difference. Ignored paths and mount stubs
    /// may differ, and buildah may leave them where devenv does not: a devenv layer holds only
    /// what the step changed (issue 11 item 7), buildah 1.28 commits its mount points too.
    static func differences(_ ours: [String: String], _ theirs: [String: String], ignoring: Set<String>) -> [String] {
        var lines: [String] = []
        for path in Set(ours.keys).union(theirs.keys).sorted() where ours[path] != theirs[path] {
            let lenient = ignoring.contains(path) || mountStubs.contains(path)
            if lenient && (ours[path] == nil) == (theirs[path] == nil) { continue }
            if lenient && ours[path] == nil { continue }
            if ignoring.contains(path) { continue }
            lines.append("< \(path): \(ours[path] ?? "(missing)")")
            lines.append("> \(path): \(theirs[path] ?? "(missing)")")
        }
        return lines
    }

    private static func digest(_ path: String) throws -> Digest {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DevenvProcess.Missing(what: "readable \(path)") }
        defer { try? handle.close() }
        var hasher = DigestHasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalize()
    }

    private static func mounted<T>(_ image: String, _ body: (String) throws -> T) throws -> T {
        let container = try DevenvProcess.run("buildah", ["from", "--pull=never", image])
        guard container.succeeded else { throw DevenvProcess.Missing(what: "buildah from \(image): \(container.stderr)") }
        let id = container.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? DevenvProcess.run("buildah", ["rm", id]) }
        let mount = try DevenvProcess.run("buildah", ["mount", id])
        guard mount.succeeded else { throw DevenvProcess.Missing(what: "buildah mount: \(mount.stderr)") }
        defer { _ = try? DevenvProcess.run("buildah", ["umount", id]) }
        return try body(mount.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Request paths a test server saw, across its connection threads.
final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String] = []

    func append(_ path: String) { lock.lock(); seen.append(path); lock.unlock() }
    func clear() { lock.lock(); seen = []; lock.unlock() }
    var paths: [String] { lock.lock(); defer { lock.unlock() }; return seen }
}

/// A bare repository `repo.git` (README "first" tagged v1, then "second" on the default
/// branch; bin/tool.sh executable; sub/inner.txt) served read-only by `git daemon` on a
/// free loopback port.
final class GitDaemon {
    let scratch: Scratch
    let port: UInt16
    private let process = Process()

    init() throws {
        scratch = try Scratch("devenv-git-daemon")
        let work = scratch.file("work")
        func git(_ arguments: [String], in directory: String? = nil) throws {
            let result = try DevenvProcess.run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"] + arguments,
                                               directory: directory)
            guard result.succeeded else { throw DevenvProcess.Missing(what: "git \(arguments.joined(separator: " ")): \(result.stderr)") }
        }
        try git(["init", "-q", work])
        try FileManager.default.createDirectory(atPath: "\(work)/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(work)/sub", withIntermediateDirectories: true)
        try "first\n".write(toFile: "\(work)/README", atomically: false, encoding: .utf8)
        try "#!/bin/sh\necho tool\n".write(toFile: "\(work)/bin/tool.sh", atomically: false, encoding: .utf8)
        chmod("\(work)/bin/tool.sh", 0o755)
        try "inner\n".write(toFile: "\(work)/sub/inner.txt", atomically: false, encoding: .utf8)
        try git(["add", "-A"], in: work)
        try git(["commit", "-q", "-m", "first"], in: work)
        try git(["tag", "v1"], in: work)
        try "second\n".write(toFile: "\(work)/README", atomically: false, encoding: .utf8)
        try git(["commit", "-q", "-am", "second"], in: work)
        try git(["clone", "-q", "--bare", work, scratch.file("repo.git")])
        let probe = try LoopbackServer { _ in }
        port = probe.port
        probe.stop()
        // git-daemon itself, not the `git` wrapper, which does not pass SIGTERM on.
        let execPath = try DevenvProcess.run("git", ["--exec-path"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        process.executableURL = URL(fileURLWithPath: "\(execPath)/git-daemon")
        process.arguments = ["--reuseaddr", "--export-all", "--listen=127.0.0.1", "--port=\(port)",
                             "--base-path=\(scratch.path)", scratch.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            usleep(50_000)
        }
        stop()
        throw DevenvProcess.Missing(what: "git daemon listening on port \(port)")
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: a signal the test process ignores stays ignored in its children.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
