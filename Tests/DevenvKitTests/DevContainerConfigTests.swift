import DevenvBuild
import DevenvAdopt
import DevenvManifest
import Testing
@testable import DevenvKit

/// devcontainer.json adoption: JSON with comments, the keys devenv maps, one warning per
/// key it cannot honour, located errors.
struct DevContainerConfigTests {
    static let root = "/home/dev/proj"
    static let environment = ["HOME": "/home/dev", "TOKEN": "secret", "USER": "dev"]

    func load(_ text: String, path: String = ".devcontainer/devcontainer.json") throws -> DevContainerProject {
        try DevContainerProject.parse(Array(text.utf8), root: Self.root, displayPath: path, environment: Self.environment)
    }

    func error(_ text: String) -> String? {
        do {
            _ = try load(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func imageProjectWithEverythingThatMaps() throws {
        let project = try load("""
            // A typical VS Code configuration.
            {
                "name": "proj",
                "image": "mcr.microsoft.com/devcontainers/python:3.12",
                "containerEnv": { "TOKEN": "${localEnv:TOKEN}", "MISSING": "${localEnv:NOPE:fallback}", "UNSET": null },
                "remoteEnv": {
                    "PATH": "${containerEnv:PATH}:/home/vscode/.local/bin",
                    "WS": "${containerWorkspaceFolder}", /* block comment */
                    "LOCAL": "${localWorkspaceFolderBasename}",
                },
                "remoteUser": "vscode",
                "workspaceFolder": "/code",
                "mounts": [
                    "source=${localEnv:HOME}/.ssh,target=/home/vscode/.ssh,type=bind,readonly",
                    { "source": "/data", "target": "/data", "type": "bind" },
                    "source=cache,target=/cache,type=volume",
                ],
                "runArgs": ["--network=host", "-e", "FROM_RUN=1", "--cap-add=SYS_PTRACE", "--hostname", "box"],
                "postCreateCommand": "pip install -r requirements.txt",
                "postStartCommand": ["echo", "started"],
                "postAttachCommand": { "one": "echo a", "two": ["echo", "b"] },
                "forwardPorts": [8000, "db:5432"],
                "features": { "ghcr.io/devcontainers/features/node:1": {} },
                "customizations": { "vscode": { "extensions": ["ms-python.python"] } },
            }
            """)
        let config = project.config
        guard case let .image(image) = config.base else { Issue.record("expected an image base"); return }
        #expect(image.value == "mcr.microsoft.com/devcontainers/python:3.12")
        #expect(image.location.description == "4:14" && image.width == 45)
        #expect(config.containerEnv.map { "\($0.name)=\($0.value)" } == ["TOKEN=secret", "MISSING=fallback", "FROM_RUN=1"])
        #expect(config.workspaceFolder == "/code")
        #expect(config.workspaceMountTarget == "/code")
        #expect(config.mounts.map { "\($0.source):\($0.target):\($0.readOnly)" } == ["/home/dev/.ssh:/home/vscode/.ssh:true", "/data:/data:false"])
        #expect(config.network == .host)
        #expect(config.hostname == "box")
        #expect(config.createCommands.map(\.command) == [.shell("pip install -r requirements.txt")])
        #expect(config.startCommands.map(\.name) == ["postStartCommand", "postAttachCommand.one", "postAttachCommand.two"])
        #expect(config.forwardPorts == ["8000", "db:5432"])
        #expect(project.warnings == [
            ".devcontainer/devcontainer.json:16:9: 'mounts' is ignored: type=volume mounts are not supported (only bind mounts of host directories); ignored",
            ".devcontainer/devcontainer.json:18:55: 'runArgs' is ignored: '--cap-add=SYS_PTRACE' has no devenv equivalent; ignored",
        ])
        #expect(config.features.map(\.reference) == ["ghcr.io/devcontainers/features/node:1"])
        #expect(project.notes.first?.contains("ports 8000, db:5432 are reachable on localhost directly") == true)

        let shell = project.shell(imageEnvironment: ["PATH=/usr/bin:/bin", "LANG=C"])
        #expect(shell.environment == ["PATH=/usr/bin:/bin:/home/vscode/.local/bin", "WS=/code", "LOCAL=proj"])
        #expect(shell.mountPoint == "/code" && shell.workingDirectory == "/code")
        #expect(shell.user == "vscode")
        #expect(shell.startCommands == [.argv(["echo", "started"]), .shell("echo a"), .argv(["echo", "b"])])
    }

    @Test func dockerfileBuildPathsAreRelativeToTheConfig() throws {
        let project = try load("""
            {
              "build": { "dockerfile": "Dockerfile", "context": "..", "target": "dev", "args": { "VARIANT": "3.12", "USER_HOME": "${localEnv:HOME}" } },
              "workspaceMount": "source=${localWorkspaceFolder},target=/workspace,type=bind,consistency=cached",
              "containerUser": "app",
              "onCreateCommand": "make setup"
            }
            """)
        guard case let .dockerfile(base) = project.config.base else { Issue.record("expected a Dockerfile base"); return }
        #expect(base.path.value == ".devcontainer/Dockerfile")
        #expect(base.context?.value == ".")
        #expect(base.target?.value == "dev")
        #expect(base.args.map { "\($0.name)=\($0.value)" } == ["VARIANT=3.12", "USER_HOME=/home/dev"])
        #expect(project.config.workspaceMountTarget == "/workspace" && project.config.workspaceFolder == "/workspace")
        #expect(project.warnings.isEmpty)
        #expect(project.shell(imageEnvironment: []).user == "app")
    }

    @Test func defaultsAndLegacyKeys() throws {
        let project = try load(#"{ "dockerFile": "../docker/dev.Dockerfile" }"#)
        guard case let .dockerfile(base) = project.config.base else { Issue.record("expected a Dockerfile base"); return }
        #expect(base.path.value == "docker/dev.Dockerfile")
        #expect(base.context?.value == ".devcontainer")
        #expect(project.config.workspaceFolder == "/workspaces/proj")
        let root = try load(#"{ "image": "debian" }"#, path: ".devcontainer.json")
        #expect(root.config.workspaceFolder == "/workspaces/proj")
    }

    @Test func lifecycleCommandsRunInTheWorkspaceAsTheRemoteUser() throws {
        let project = try load(#"{ "image": "x", "remoteUser": "vscode", "containerEnv": { "A": "1" }, "postCreateCommand": "npm ci", "updateContentCommand": ["make", "deps"] }"#)
        let steps = project.config.steps(baseUser: "root")
        #expect(steps.map(\.definition) == [
            "ENV A=1", "user vscode",
            #"RUN ["/bin/sh", "-c", "cd "$0" && exec "$@"", "/workspaces/proj", "make", "deps"]"#, "RUN cd '/workspaces/proj' && npm ci", "user root",
        ])
        guard case let .run(run) = steps[2].step else { Issue.record("expected a run step"); return }
        #expect(run.command == ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", "/workspaces/proj", "make", "deps"])
        #expect(run.projectMount == "/workspaces/proj" && run.cacheMounts.isEmpty)
        let planned = try project.plannedSteps(baseUser: "root", stateDirectory: "/nonexistent", features: .none, remoteUserUID: nil)
        // The remote user writes the project as its owner would (ownedByStepUser).
        let workspace = StepExecution.CacheMount(hostPath: Self.root, containerPath: "/workspaces/proj", ownedByStepUser: true)
        #expect(planned.map(\.cacheMounts) == [[], [], [workspace], [workspace], []])
        #expect(planned.map(\.location) == [
            ".devcontainer/devcontainer.json:1", ".devcontainer/devcontainer.json:1", ".devcontainer/devcontainer.json:1",
            ".devcontainer/devcontainer.json:1", ".devcontainer/devcontainer.json:1",
        ])
        #expect(project.config.steps(baseUser: "vscode").count == 3)
    }

    /// Rootless (issue 12): the remote user first takes the host user's ids, as root (the
    /// base's user is switched away from and back); a root remote user is left alone.
    @Test func rootlessTheRemoteUserTakesTheHostUsersIDs() throws {
        let ids = RemoteUserUID(uid: 1001, gid: 1002)
        let project = try load(#"{ "image": "x", "remoteUser": "vscode", "postCreateCommand": "npm ci" }"#)
        let steps = project.config.steps(baseUser: "node", remoteUserUID: ids)
        #expect(steps.map(\.definition).map { $0.hasPrefix("RUN [\"/bin/sh\", \"-c\", \"set -eu") ? "RUN update" : $0 } == [
            "user root", "RUN update", "user vscode", "RUN cd '/workspaces/proj' && npm ci", "user node",
        ])
        guard case let .run(update) = steps[1].step else { Issue.record("expected a run step"); return }
        #expect(update.command.suffix(4) == ["devenv-update-remote-user-uid", "vscode", "1001", "1002"])
        #expect(update.projectMount == nil)
        // The image's user is already root, and without create commands nothing else runs.
        let shellOnly = try load(#"{ "image": "x", "remoteUser": "vscode" }"#)
        let shellSteps = shellOnly.config.steps(baseUser: nil, remoteUserUID: ids)
        #expect(shellSteps.count == 1)
        if case .run = shellSteps.first?.step {} else { Issue.record("expected the update step alone: \(shellSteps)") }
        let root = try load(#"{ "image": "x", "remoteUser": "root", "postCreateCommand": "true" }"#)
        #expect(root.config.steps(baseUser: nil, remoteUserUID: ids).count == root.config.steps(baseUser: nil).count)
    }

    @Test func errorsAreLocated() {
        #expect(error("{ \"image\": 5 }") == ".devcontainer/devcontainer.json:1:12: error: image: expected a string, found a number")
        #expect(error("{ \"name\": \"x\" }") == ".devcontainer/devcontainer.json:1:1: error: needs 'image' or 'build.dockerfile'")
        let compose = error("{\n  \"dockerComposeFile\": \"compose.yml\",\n  \"service\": \"app\"\n}")
        #expect(compose?.hasPrefix(".devcontainer/devcontainer.json:1:1: error: needs 'image' or 'build.dockerfile'\n.devcontainer/devcontainer.json:2:3: error: 'dockerComposeFile': devenv does not run Docker Compose files") == true, "\(compose ?? "")")
        #expect(error("{ \"image\": \"x\",\n  \"postCreateCommand\": 3 }") == ".devcontainer/devcontainer.json:2:24: error: postCreateCommand: expected a string, an array of strings or an object of them, found a number")
        #expect(error("{ \"build\": { \"dockerfile\": \"../../../etc/Dockerfile\" } }") == ".devcontainer/devcontainer.json:1:28: error: '../../../etc/Dockerfile' is outside the project directory")
        #expect(error("[1, 2]") == ".devcontainer/devcontainer.json:1:1: error: expected an object, found an array")
    }

    @Test func jsonSyntaxErrors() {
        let cases: [(String, String?)] = [
            ("{ \"a\": }", "1:8: error: unexpected character, expected a value"),
            ("{ \"a\": 1 \"b\": 2 }", "1:10: error: expected ',' or '}'"),
            ("{\n  /* open", "2:3: error: unterminated /* comment"),
            ("{ \"a\": \"x\ny\" }", "1:10: error: unterminated string (a newline must be written \\n)"),
            ("{ \"a\": \"x", "1:8: error: unterminated string"),
            ("{ \"a\": 1 } x", "1:12: error: unexpected text after the JSON value"),
            (String(repeating: "[", count: 100_000), "1:65: error: nesting deeper than 64 levels"),
            ("{ \"a\": \"\\q\" }", "1:9: error: invalid escape '\\q' in a string"),
            ("{ \"a\": \"\\uD888\\u1234\" }", nil),
            ("{ \"a\": -01 }", "1:8: error: invalid number: a leading zero must not be followed by digits"),
        ]
        for (text, message) in cases {
            // nil: no syntax error (the missing `image` is reported, not a crash).
            #expect(error(text).flatMap { $0.contains("error: needs 'image'") ? nil : $0 } == message.map { ".devcontainer/devcontainer.json:\($0)" },
                    "\(text.prefix(40))")
        }
    }

    @Test func conversionToAManifest() throws {
        let project = try load("""
            {
              "build": { "dockerfile": "Dockerfile", "context": "..", "args": { "V": "1" } },
              "containerEnv": { "A": "1" },
              "remoteEnv": { "PATH": "${containerEnv:PATH}:/opt/bin" },
              "remoteUser": "vscode",
              "mounts": ["source=/data,target=/data,type=bind,readonly"],
              "runArgs": ["--network=none"],
              "postCreateCommand": { "install": "npm ci", "build": ["npm", "run", "build"] },
              "postStartCommand": "echo hi",
              "features": { "ghcr.io/devcontainers/features/node:1": {} }
            }
            """)
        let text = DevContainerConverter.convert(project.config, displayPath: project.displayPath)
        #expect(text == """
            # Converted from .devcontainer/devcontainer.json by `devenv init --from-devcontainer`.
            # devcontainer.json keeps working without this file; delete one of the two to avoid confusion.

            [base]
            dockerfile = ".devcontainer/Dockerfile"
            args = { V = "1" }

            # containerEnv
            [[step]]
            env = { A = "1" }

            [shell]
            mount = "/workspaces/proj"
            env = { PATH = "${PATH}:/opt/bin" }
            network = "none"
            mounts = [
                { host = "/data", container = "/data", readonly = true },
            ]
            # remoteUser vscode: devenv runs shells as your own uid with a home directory.

            # Lifecycle commands, as tasks: `devenv run post-create` after the first build, and so on.
            [tasks]
            post-create-install = "npm ci"
            post-create-build = ["npm", "run", "build"]
            post-start = "echo hi"

            # Not converted:
            #   .devcontainer/devcontainer.json:10:17: feature 'ghcr.io/devcontainers/features/node:1' is not converted: a devenv.toml has no features; install what it provides in a [[step]]

            """)
        let manifest = try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml")
        #expect(manifest.base.dockerfile?.path.value == ".devcontainer/Dockerfile")
        #expect(manifest.tasks.map(\.name) == ["post-create-install", "post-create-build", "post-start"])
        #expect(manifest.shell.mounts.count == 1 && manifest.shell.network == Manifest.Network.none)
    }
}
