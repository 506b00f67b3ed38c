@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Projects that have only a `.devcontainer/devcontainer.json`: `devenv build` adopts it as
/// it is. Builds run real containers (root), and the results are read back through podman.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("buildah", "podman")))
struct DevContainerTests {
    @Test(arguments: DevenvUser.allCases)
    func imageProjectBuildsOnceAndWarnsAboutWhatItIgnores(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["buildah", "podman"])
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write("README.md", "hello\n")
        try project.write(".devcontainer/devcontainer.json", """
            // VS Code style, with comments and trailing commas.
            {
              "name": "demo",
              "image": "\(bases.busybox)",
              "containerEnv": { "GREETING": "${localEnv:DEVENV_TEST_GREETING:hi}", },
              "remoteEnv": { "EDITOR": "vi" },
              "postCreateCommand": "cat README.md > /from-workspace && echo $GREETING > /greeting && echo ran >> .devcontainer/runs && pwd > /pwd",
              "forwardPorts": [3000],
              "hostRequirements": { "cpus": 2 },
            }
            """)
        let first = try project.devenv(["build"])
        #expect(first.succeeded, "\(first.stderr)")
        #expect(first.stderr.contains("devenv: warning: .devcontainer/devcontainer.json:9:3: 'hostRequirements' is ignored: devenv does not check host requirements"), "\(first.stderr)")
        #expect(first.stderr.contains("ports 3000 are reachable on localhost directly"))
        #expect(first.stderr.contains(".devcontainer/devcontainer.json:7: RUN cd '/workspaces/project' && cat README.md"), "\(first.stderr)")

        // The create command is a cached layer: it runs once.
        let second = try project.buildSteps(["build", "--json"])
        #expect(second.allSatisfy { $0["cached"] as? Bool == true }, "\(second)")
        #expect(try String(contentsOfFile: "\(project.root)/.devcontainer/runs", encoding: .utf8) == "ran\n")

        let image = try project.loadIntoPodman(tag: try #require(project.lastImage))
        defer { Podman.remove(image) }
        let files = try ImageTree.contents(image, ["/from-workspace", "/greeting", "/pwd"])
        #expect(files == ["/from-workspace": "hello\n", "/greeting": "hi\n", "/pwd": "/workspaces/project\n"])
        let config = try Podman.config(image)
        #expect(config.contains("\"GREETING=hi\""), "\(config)")

        let rebuilt = try project.buildSteps(["build", "--json", "--no-cache"])
        #expect(rebuilt.allSatisfy { $0["cached"] as? Bool == false })
        #expect(try String(contentsOfFile: "\(project.root)/.devcontainer/runs", encoding: .utf8) == "ran\nran\n")
    }

    @Test(arguments: DevenvUser.allCases)
    func dockerfileBuildWithArgsAndTarget(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["buildah", "podman"])
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write("tool.sh", "#!/bin/sh\necho tool\n")
        try project.write(".devcontainer/Dockerfile", """
            ARG BASE
            FROM ${BASE} AS dev
            ARG VARIANT=plain
            COPY tool.sh /usr/local/bin/tool
            RUN echo "$VARIANT" > /variant
            FROM dev AS unused
            RUN exit 1
            """)
        try project.write(".devcontainer/devcontainer.json", """
            {
              "build": { "dockerfile": "Dockerfile", "context": "..", "target": "dev",
                         "args": { "BASE": "\(bases.busybox)", "VARIANT": "fancy" } },
              "workspaceFolder": "/src",
              "onCreateCommand": ["sh", "-c", "cat /variant > created-in-workspace"],
            }
            """)
        let built = try project.buildSteps(["build", "--json", "--explain"])
        #expect(built.map { $0["location"] as? String ?? "" } == [".devcontainer/Dockerfile:4", ".devcontainer/Dockerfile:5", ".devcontainer/devcontainer.json:5"])
        #expect(try String(contentsOfFile: "\(project.root)/created-in-workspace", encoding: .utf8) == "fancy\n")
        let image = try project.loadIntoPodman(tag: try #require(project.lastImage))
        defer { Podman.remove(image) }
        #expect(try ImageTree.contents(image, ["/variant", "/usr/local/bin/tool"]) == ["/variant": "fancy\n", "/usr/local/bin/tool": "#!/bin/sh\necho tool\n"])
    }

    @Test(arguments: DevenvUser.allCases)
    func errorsAndPrecedence(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"postCreateCommand\": 5\n}\n")
        let invalid = try project.devenv(["build"])
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains(".devcontainer/devcontainer.json:3:24: error: postCreateCommand: expected a string, an array of strings or an object of them, found a number\n 3 |   \"postCreateCommand\": 5"), "\(invalid.stderr)")

        try project.write(".devcontainer/devcontainer.json", "{ \"image\": \"localhost/no/such:image\" }")
        let missing = try project.devenv(["build"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains(".devcontainer/devcontainer.json:1:12: image 'localhost/no/such:image' not found in the store"), "\(missing.stderr)")

        // A devenv.toml next to it wins.
        try project.write(".devenv/devenv.toml", "[base]\nimage = \"\(bases.busybox)\"\n\n[[step]]\nrun = \"echo manifest > /which\"\n")
        let manifest = try project.buildSteps(["build", "--json"])
        #expect(manifest.first?["location"] as? String == ".devenv/devenv.toml:5")
    }
}
