@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 14: a project file that is a FIFO, a directory or a device is refused at
/// once with an error naming it and what it is, instead of blocking forever (a FIFO has no
/// writer) or reading without end (/dev/zero). Every run has a timeout, so a regression
/// fails (status 137) instead of hanging the suite. None of these starts a container.
@Suite(.serialized) struct InputFileTests {
    /// What is put where a regular file is expected, and what the error must call it.
    enum Impostor: CaseIterable {
        case fifo, directory, device

        var said: String {
            switch self {
            case .fifo: return "is a FIFO, not a regular file"
            case .directory: return "is a directory, not a regular file"
            case .device: return "is a character device, not a regular file"
            }
        }

        func place(at path: String) throws {
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            switch self {
            case .fifo: guard mkfifo(path, 0o644) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
            case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            case .device: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
            }
        }
    }

    static let timeout: TimeInterval = 30

    static func expectRefused(_ result: DevenvProcess.Result, _ file: String, _ impostor: Impostor, _ what: String) {
        #expect(result.status != 137, "\(what): devenv hung on a \(impostor) and was killed")
        #expect(!result.succeeded, "\(what)")
        #expect(result.stderr.contains(file) && result.stderr.contains(impostor.said), "\(what): \(result.stderr)")
    }

    @Test(arguments: Impostor.allCases) func manifestThatIsNotAFile(_ impostor: Impostor) throws {
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n")
        try impostor.place(at: "\(project.root)/.devenv/devenv.toml")
        for command in [["build"], ["run", "--", "true"], ["status"]] {
            let result = try DevenvProcess.devenv(command, store: project.store, directory: project.root, timeout: Self.timeout)
            Self.expectRefused(result, ".devenv/devenv.toml", impostor, "devenv \(command.joined(separator: " "))")
        }
    }

    @Test(arguments: Impostor.allCases) func lockFileThatIsNotAFile(_ impostor: Impostor) throws {
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n")
        try impostor.place(at: "\(project.root)/.devenv/devenv.lock")
        let result = try DevenvProcess.devenv(["build"], store: project.store, directory: project.root, timeout: Self.timeout)
        Self.expectRefused(result, ".devenv/devenv.lock", impostor, "devenv build")
    }

    @Test(arguments: Impostor.allCases) func dockerfileThatIsNotAFile(_ impostor: Impostor) throws {
        let project = try ProjectFixture(manifest: "")
        try FileManager.default.removeItem(atPath: "\(project.root)/.devenv")
        try impostor.place(at: "\(project.root)/Dockerfile")
        let result = try DevenvProcess.devenv(["build", "--file", "Dockerfile"], store: project.store, directory: project.root, timeout: Self.timeout)
        Self.expectRefused(result, "Dockerfile", impostor, "devenv build --file Dockerfile")
    }

    @Test(arguments: Impostor.allCases) func dockerignoreThatIsNotAFile(_ impostor: Impostor) throws {
        let project = try ProjectFixture(manifest: "")
        try FileManager.default.removeItem(atPath: "\(project.root)/.devenv")
        try project.write("Dockerfile", "FROM busybox:it\nCOPY a.txt /a.txt\n")
        try project.write("a.txt", "a\n")
        try impostor.place(at: "\(project.root)/.dockerignore")
        let result = try DevenvProcess.devenv(["build", "--file", "Dockerfile"], store: project.store, directory: project.root, timeout: Self.timeout)
        Self.expectRefused(result, ".dockerignore", impostor, "devenv build --file Dockerfile")
    }

    @Test(arguments: Impostor.allCases) func devcontainerJSONThatIsNotAFile(_ impostor: Impostor) throws {
        let project = try ProjectFixture(manifest: "")
        try FileManager.default.removeItem(atPath: "\(project.root)/.devenv")
        try impostor.place(at: "\(project.root)/.devcontainer/devcontainer.json")
        for command in [["build"], ["run", "--", "true"]] {
            let result = try DevenvProcess.devenv(command, store: project.store, directory: project.root, timeout: Self.timeout)
            Self.expectRefused(result, "devcontainer.json", impostor, "devenv \(command.joined(separator: " ")) in a devcontainer project")
        }
    }

    /// Docker's auth config and devenv's registries.json are the user's files, read by path.
    @Test(arguments: Impostor.allCases) func registryConfigurationThatIsNotAFile(_ impostor: Impostor) throws {
        let scratch = try Scratch("devenv-input-config")
        let docker = scratch.file("docker")
        try impostor.place(at: "\(docker)/config.json")
        let logout = try DevenvProcess.devenv(["logout", "127.0.0.1:5000"], store: scratch.file("store"), environment: ["DOCKER_CONFIG": docker], timeout: Self.timeout)
        Self.expectRefused(logout, "config.json", impostor, "devenv logout")

        let config = scratch.file("devenv")
        try impostor.place(at: "\(config)/registries.json")
        let pull = try DevenvProcess.devenv(["pull", "127.0.0.1:9/nothing:1"], store: scratch.file("store"), environment: ["DEVENV_CONFIG_DIR": config], timeout: Self.timeout)
        Self.expectRefused(pull, "registries.json", impostor, "devenv pull")
    }

    /// `devenv image import` reads an archive twice; a FIFO or a device is refused up front.
    @Test(arguments: [Impostor.fifo, .device]) func importSourceThatIsNotAFile(_ impostor: Impostor) throws {
        let scratch = try Scratch("devenv-input-import")
        try impostor.place(at: scratch.file("image.tar"))
        let result = try DevenvProcess.devenv(["image", "import", scratch.file("image.tar"), "--tag", "localhost/x:1"], store: scratch.file("store"), timeout: Self.timeout)
        Self.expectRefused(result, "image.tar", impostor, "devenv image import")
    }

    /// The same refusal for an unprivileged user (a rootless store and project).
    @Test(.enabled(if: Requirement.root(), "needs root to act as the test user")) func rootlessManifestThatIsAFIFO() throws {
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: .rootless)
        try Impostor.fifo.place(at: "\(project.root)/.devenv/devenv.toml")
        try project.runner.own(project.root)
        for command in [["build"], ["run", "--", "true"]] {
            let result = try project.devenv(command, timeout: Self.timeout)
            Self.expectRefused(result, ".devenv/devenv.toml", .fifo, "devenv \(command.joined(separator: " ")) as devenv-test")
        }
    }

    /// An image whose /etc/passwd is a FIFO: the container's setup (which adds the user to
    /// it) refuses it instead of waiting for a writer forever.
    @Test(.enabled(if: Requirement.root())) func imageWithAFIFOAsEtcPasswd() throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-input-image")
        let root = try Fixtures.busyboxRoot(in: scratch)
        try Impostor.fifo.place(at: "\(root)/etc/passwd")
        let tarball = scratch.file("fifo-passwd.tar")
        #expect(try DevenvProcess.run("tar", ["--owner=0", "--group=0", "-C", root, "-cf", tarball, "."]).succeeded)
        let store = scratch.file("store")
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", "localhost/fifo-passwd:1"], store: store).succeeded)
        let result = try DevenvProcess.devenv(["run", "--image", "localhost/fifo-passwd:1", "--", "true"], store: store, timeout: Self.timeout)
        Self.expectRefused(result, "/etc/passwd", .fifo, "devenv run on an image whose /etc/passwd is a FIFO")
    }

    /// A FIFO among the files a `copy` step takes is named in a clear error; hashing it for
    /// the cache key would block forever.
    @Test func fifoInsideACopiedDirectory() throws {
        let project = try ProjectFixture(manifest: """
        [base]
        image = "busybox:it"

        [[step]]
        copy = ["src/"]
        to = "/opt/src/"
        """)
        try project.write("src/a.txt", "a\n")
        try Impostor.fifo.place(at: "\(project.root)/src/pipe")
        let result = try DevenvProcess.devenv(["build"], store: project.store, directory: project.root, timeout: Self.timeout)
        Self.expectRefused(result, "src/pipe", .fifo, "devenv build copying a directory with a FIFO")
    }

    /// In a Dockerfile's build context a FIFO is a runtime leftover, as BuildKit treats
    /// it: not copied, and never opened.
    @Test func fifoInsideADockerfileContextIsSkipped() throws {
        let project = try ProjectFixture(manifest: "")
        try FileManager.default.removeItem(atPath: "\(project.root)/.devenv")
        try project.write("Dockerfile", "FROM busybox:it\nCOPY src /opt/src\n")
        try project.write("src/a.txt", "a\n")
        try Impostor.fifo.place(at: "\(project.root)/src/pipe")
        let result = try DevenvProcess.devenv(["build", "--file", "Dockerfile"], store: project.store, directory: project.root, timeout: Self.timeout)
        #expect(result.status != 137, "devenv hung on the FIFO")
        #expect(result.succeeded, "\(result.stderr)")
    }
}
