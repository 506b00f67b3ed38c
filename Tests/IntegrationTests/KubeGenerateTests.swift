@testable import DevenvTestSupport
import Foundation
import Testing

/// `devenv kube generate` end to end: the environment pushed to a real registry, the pod it
/// describes started by podman's Kubernetes engine (`podman kube play`), as root and by rootless
/// podman as the test user, its service reached from the environment's container over the
/// pod's shared loopback, and removed again.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("docker-registry", "podman")), .timeLimit(.minutes(20)))
struct KubeGenerateTests {
    static func manifest(registry: String, port: UInt16) -> String {
        """
        [base]
        image = "\(registry)/base/busybox:1"

        [[step]]
        run = "mkdir -p /www && echo served-from-the-pod > /www/index.html"

        [[step]]
        user = "nobody"

        [shell]
        env = { GREETING = "hello \\\\$HOME" }

        [services.web]
        command = ["/bin/busybox", "httpd", "-f", "-p", "\(port)", "-h", "/www"]
        ports = [\(port)]
        restart = "always"

        [cache]
        registry = "\(registry)/team/env"
        """
    }

    @Test(arguments: DevenvUser.allCases)
    func generatedPodRunsUnderPodmanAndItsServiceAnswers(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["docker-registry", "podman"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let port = try TestRegistry.freePort()
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        let podman = try PodmanRunner(project.runner, scratch: project.scratch)
        defer { podman.removeAll() }
        // A directory name of its own, so the pod's name cannot meet another test's.
        let directory = "kube-\(UUID().uuidString.prefix(8).lowercased())"
        try project.write("\(directory)/.devenv/devenv.toml", Self.manifest(registry: registry.authority, port: port))
        let base = "\(registry.authority)/base/busybox:1"
        #expect(try project.devenv(["image", "import", try Fixtures.busyboxRootfs(in: project.scratch, name: "base"), "--tag", base]).succeeded)
        let pushedBase = try project.devenv(["push", base])
        #expect(pushedBase.succeeded, "\(pushedBase.stderr)")

        let built = try project.devenv(["build"], in: directory)
        #expect(built.succeeded, "\(built.stderr)")
        let unpushed = try project.devenv(["kube", "generate", "--workspace", "host"], in: directory)
        #expect(unpushed.status != 0)
        #expect(unpushed.stderr.contains("never pushed: \(registry.authority)/team/env:key-"), "\(unpushed.stderr)")
        #expect(unpushed.stderr.contains("`devenv build --push`"), "\(unpushed.stderr)")

        let pushed = try project.devenv(["build", "--push"], in: directory)
        #expect(pushed.succeeded, "\(pushed.stderr)")
        let file = project.scratch.file("pod.yaml")
        let generated = try project.devenv(["kube", "generate", "--workspace", "host", "-o", file], in: directory)
        #expect(generated.succeeded, "\(generated.stderr)")
        let yaml = try String(contentsOfFile: file, encoding: .utf8)
        #expect(yaml.contains("image: \"\(registry.authority)/team/env@sha256:"), "by digest, as pushed:\n\(yaml)")
        #expect(yaml.contains("runAsUser: 65534"), "the image's user, resolved from its passwd:\n\(yaml)")
        #expect(yaml.contains("\n  restartPolicy: Always\n"), "the service's restart = \"always\":\n\(yaml)")
        let printed = try project.devenv(["kube", "generate", "--workspace", "host"], in: directory)
        #expect(printed.stdout == yaml, "standard output holds the same YAML")

        try Self.cloneWorkspace(project, directory: directory)

        let pod = directory
        let image = try #require(yaml.split(separator: "\n").first { $0.contains("image: ") && $0.contains("/team/env@") })
            .split(separator: "\"").dropFirst().first.map(String.init)
        defer {
            _ = try? podman.run(["kube", "down", file])
            _ = try? podman.run(["pod", "rm", "--force", "--ignore", pod])
            if let image { _ = try? podman.run(["rmi", "--force", image]) }
        }
        let played = try podman.run(["kube", "play", "--tls-verify=false", file])
        #expect(played.status == 0, "\(played.stdout)\n\(played.stderr)")
        if let image {
            #expect(try podman.run(["image", "exists", image]).status == 0, "pulled into the storage of the podman that runs the pod")
            if user == .rootless { #expect(try Tools.execute("podman", ["image", "exists", image]).status == 1, "not root's") }
        }

        // The service listens on the pod's loopback, which the environment's container shares.
        var answer = ""
        for _ in 0..<50 {
            let fetched = try podman.run(["exec", "\(pod)-workspace", "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:\(port)/"])
            answer = fetched.stdout
            if fetched.status == 0 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(answer == "served-from-the-pod\n")
        let inside = try podman.run(["exec", "\(pod)-workspace", "/bin/sh", "-c", "id -u; pwd; echo \"$GREETING\"; head -1 .devenv/devenv.toml"])
        #expect(inside.stdout == "65534\n/workspace\nhello $HOME\n[base]\n", "\(inside.stderr)")

        let down = try podman.run(["kube", "down", file])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try podman.run(["pod", "exists", pod]).status == 1, "the pod is gone")
        #expect(try podman.run(["ps", "--all", "--quiet", "--filter", "pod=\(pod)"]).stdout.isEmpty, "and its containers")
    }

    /// The default workspace: the repository's remote at HEAD, found through libgit2; no
    /// remote is an error that suggests `--workspace host`.
    static func cloneWorkspace(_ project: ProjectFixture, directory: String) throws {
        // As the project's user: the repository is theirs, as a developer's checkout is (git
        // and libgit2 refuse one another user owns).
        let git = { (arguments: [String]) throws -> DevenvProcess.Result in
            let environment = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"]
            guard let account = project.runner.account else {
                return try DevenvProcess.run("git", ["-C", project.root] + arguments, environment: environment)
            }
            let (program, line) = account.command("git", ["-C", project.root] + arguments, home: project.runner.home, environment: environment)
            return try DevenvProcess.run(program, line)
        }
        #expect(try git(["init", "--quiet"]).succeeded)
        #expect(try git(["add", "-A"]).succeeded)
        #expect(try git(["commit", "--quiet", "-m", "x"]).succeeded)
        let commit = try git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let noRemote = try project.devenv(["kube", "generate"], in: directory)
        #expect(noRemote.status != 0)
        #expect(noRemote.stderr.contains("has no remote") && noRemote.stderr.contains("--workspace host"), "\(noRemote.stderr)")
        #expect(try git(["remote", "add", "origin", "https://user:hunter22@example.com/team/app.git"]).succeeded)
        let cloned = try project.devenv(["kube", "generate"], in: directory)
        #expect(cloned.succeeded, "\(cloned.stderr)")
        #expect(cloned.stdout.contains("- \"https://example.com/team/app.git\"\n"), "\(cloned.stdout)")
        #expect(!cloned.stdout.contains("hunter22"))
        #expect(cloned.stderr.contains("credentials in the URL of remote 'origin' are left out"), "\(cloned.stderr)")
        #expect(cloned.stdout.contains(commit), "checks out HEAD")
        #expect(cloned.stdout.contains("subPath: \(directory)\n"), "the project is a subdirectory of the repository")
        try FileManager.default.removeItem(atPath: "\(project.root)/.git")
    }

    @Test(arguments: DevenvUser.allCases)
    func projectWithoutACacheRegistryIsToldWhereTheImageWouldComeFrom(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        let result = try project.devenv(["kube", "generate"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("has no [cache] registry"), "\(result.stderr)")
        #expect(result.stderr.contains("`devenv build --push`"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)

        try project.write(".devenv/devenv.toml", "[base]\nimage = \"busybox:it\"\n[cache]\nregistry = \"127.0.0.1:1/team/env\"\n")
        let unbuilt = try project.devenv(["kube", "generate"])
        #expect(unbuilt.status != 0)
        #expect(unbuilt.stderr.contains("has not been built here") && unbuilt.stderr.contains("`devenv build --push`"), "\(unbuilt.stderr)")
    }
}
