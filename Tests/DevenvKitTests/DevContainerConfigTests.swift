import DevenvBuild
import DevenvAdopt
import DevenvManifest
import Foundation
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

    /// Mounts devenv cannot apply are said, with the reason; a volume name cannot name a path.
    @Test(arguments: [
        ("source=../x,target=/x,type=volume", "'../x' is not a volume name (letters, digits, '_', '.', '-', starting with a letter or digit)"),
        ("target=/x,type=volume", "an anonymous volume (no source) would be new in every session; give it a name"),
        ("source=relative,target=/x,type=bind", "a bind mount needs an absolute source"),
        ("source=/a,target=relative", "a mount needs an absolute target"),
        ("type=npipe,source=/a,target=/b", "type=npipe mounts are not supported (only bind and volume)"),
    ])
    func unsupportedMountsAreWarnings(_ mount: String, _ reason: String) throws {
        let project = try load("{ \"image\": \"busybox\", \"mounts\": [\"\(mount)\"] }")
        #expect(project.config.mounts.isEmpty && project.config.volumes.isEmpty)
        #expect(project.warnings == [".devcontainer/devcontainer.json:1:34: 'mounts' is ignored: \(reason); ignored"], "\(project.warnings)")
    }

    /// The object form takes JSON booleans (`"readonly": true`), as the spec writes them.
    @Test func objectMountsTakeBooleans() throws {
        let project = try load(#"{ "image": "busybox", "mounts": [{ "type": "bind", "source": "/x", "target": "/y", "readonly": true }, { "Type": "volume", "source": "v", "target": "/v", "readonly": false }] }"#)
        #expect(project.config.mounts.map(\.readOnly) == [true] && project.config.volumes == [DevContainerVolume(name: "v", target: "/v", readOnly: false)])
        #expect(project.warnings.isEmpty, "\(project.warnings)")
    }

    /// A feature's mounts: volumes and working-tree binds (kept relative in the image label,
    /// bound at the project's root in sessions); any other host path is refused with a reason.
    @Test func featureMountsKeepToTheProject() throws {
        let project = try load("{ \"image\": \"busybox\", \"workspaceFolder\": \"/code\" }")
        var mounts = FeatureMounts()
        #expect(mounts.add(project.config.featureMount("source=dind-${devcontainerId},target=/var/lib/docker,type=volume"), root: Self.root) == nil)
        #expect(mounts.add(project.config.featureMount("type=bind,source=${localWorkspaceFolder}/tools,target=${containerWorkspaceFolder}/t,readonly"), root: Self.root) == nil)
        #expect(mounts.add(project.config.featureMount("type=bind,source=${localWorkspaceFolder}/../other,target=/o"), root: Self.root)?
            .contains("a feature may bind only paths of the working tree") == true)
        #expect(mounts.add(project.config.featureMount("type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock"), root: Self.root)?
            .contains("not '/var/run/docker.sock'") == true)
        #expect(mounts.add(.unsupported("why"), root: Self.root) == "why")
        let read = FeatureMounts.read(mounts.label)
        #expect(read == mounts && read.volumes.map(\.name) == ["dind-\(ProjectState.id(root: Self.root))"])
        #expect(read.mounts(root: "/elsewhere", location: .start).map { "\($0.source):\($0.target):\($0.readOnly)" } == ["/elsewhere/tools:/code/t:true"])
        #expect(FeatureMounts.read("not json") == FeatureMounts() && FeatureMounts.read(nil) == FeatureMounts())
        let forged = #"{"volumes":[{"name":"../x","target":"/x","readOnly":false}],"binds":[{"path":"../../etc","target":"/e","readOnly":false},{"path":"/etc","target":"/e","readOnly":false}]}"#
        #expect(FeatureMounts.read(forged) == FeatureMounts())
        // Sessions bind them, the devcontainer's own after the features'.
        let shell = project.shell(imageEnvironment: [], imageLabels: [FeatureMounts.labelKey: mounts.label])
        #expect(shell.volumes == read.volumes && shell.mounts.map(\.target) == ["/code/t"])
    }

    /// A working-tree bind is bound as the path it really is; a symlink out of the tree is refused.
    @Test func treeBindsStayInTheTree() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tree-bind-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: "\(scratch)/project/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(scratch)/project/inside", withDestinationPath: "real")
        try FileManager.default.createSymbolicLink(atPath: "\(scratch)/project/outside", withDestinationPath: scratch)
        let root = "\(scratch)/project"
        func mount(_ source: String) -> Manifest.Mount { Manifest.Mount(source: .absolute(source), target: "/t", readOnly: false, location: .start) }
        #expect(try ProjectShell.checkedInTree(mount("\(root)/inside"), root: root, file: "f").source == .absolute("\(root)/real"))
        #expect(try ProjectShell.checkedInTree(mount("/etc"), root: root, file: "f").source == .absolute("/etc"))
        let refused = try #require(throws: KitError.self) { try ProjectShell.checkedInTree(mount("\(root)/outside"), root: root, file: "f") }
        let message = "\(refused)"
        #expect(message.contains("f: mount at /t: 'outside' leads outside the project (to '\(scratch)') through a symlink"), "\(message)")
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
                    "source=cache-${devcontainerId},target=/cache,type=volume",
                    "type=tmpfs,target=/tmp/x",
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
        #expect(config.volumes == [DevContainerVolume(name: "cache-\(ProjectState.id(root: Self.root))", target: "/cache", readOnly: false)])
        #expect(project.warnings == [
            ".devcontainer/devcontainer.json:17:9: 'mounts' is ignored: type=tmpfs mounts are not supported (only bind and volume); ignored",
            ".devcontainer/devcontainer.json:19:55: 'runArgs' is ignored: '--cap-add=SYS_PTRACE' has no devenv equivalent; ignored",
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
              "mounts": ["source=/data,target=/data,type=bind,readonly", "source=cache,target=/cache,type=volume"],
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
            #   .devcontainer/devcontainer.json: 'mounts': the volume 'cache' at /cache is not converted: [shell] mounts bind host paths only; bind a directory instead
            #   .devcontainer/devcontainer.json:10:17: feature 'ghcr.io/devcontainers/features/node:1' is not converted: a devenv.toml has no features; install what it provides in a [[step]]

            """)
        let manifest = try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml")
        #expect(manifest.base.dockerfile?.path.value == ".devcontainer/Dockerfile")
        #expect(manifest.tasks.map(\.name) == ["post-create-install", "post-create-build", "post-start"])
        #expect(manifest.shell.mounts.count == 1 && manifest.shell.network == Manifest.Network.none)
    }
}
