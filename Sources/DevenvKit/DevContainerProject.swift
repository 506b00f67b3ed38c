import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation

/// A project adopted from its `.devcontainer/devcontainer.json` (or `.devcontainer.json`):
/// built with devenv's cache and runtime, entered with devenv's own user handling.
///
/// The image: `image` (or the Dockerfile `build`), then `containerEnv` as a config step,
/// then each create command (`onCreateCommand`, `updateContentCommand`, `postCreateCommand`)
/// as a cached run step with the project mounted at the workspace folder, as `remoteUser`
/// (or `containerUser`). A create command therefore runs once; `devenv build --no-cache`
/// runs it again.
public struct DevContainerProject: Sendable {
    public static let candidates = [".devcontainer/devcontainer.json", ".devcontainer.json"]

    /// The directory holding `.devcontainer/` (or `.devcontainer.json`).
    public let root: String
    /// Relative to `root`, as messages show it.
    public let displayPath: String
    public let config: DevContainerConfig

    public var warnings: [String] { config.warnings }
    public var notes: [String] { config.notes }
    public var name: String { Project.name(root: root) }
    public var imageTag: String { Project.imageTag(root: root) }

    /// The devcontainer.json in `root`, if there is one.
    public static func configPath(root: String) -> String? {
        candidates.first { FileManager.default.fileExists(atPath: "\(root)/\($0)") }
    }

    /// Reads and interprets the configuration; `environment` supplies `${localEnv:…}`.
    public static func load(root: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DevContainerProject {
        guard let relative = configPath(root: root) else {
            throw KitError.devContainerNotFound(root: root)
        }
        let bytes = try FileDescriptor.readRegularFile("\(root)/\(relative)", limit: Manifest.maxFileSize, operation: "read the devcontainer configuration")
        return try parse(bytes, root: root, displayPath: relative, environment: environment)
    }

    /// Pure: the configuration in `bytes`, for a project at `root`.
    public static func parse(_ bytes: [UInt8], root: String, displayPath: String, environment: [String: String]) throws -> DevContainerProject {
        let json = try DevContainerJSON.parse(bytes, path: displayPath)
        let directory = ("\(root)/\(displayPath)" as NSString).deletingLastPathComponent
        var reader = DevContainerReader(path: displayPath, configDirectory: directory, root: root, environment: environment)
        let config = reader.read(json)
        guard let config, reader.diagnostics.isEmpty else {
            var error = ManifestError(path: displayPath, diagnostics: reader.diagnostics.sorted { $0.location < $1.location })
            error.attachSource(bytes)
            throw error
        }
        return DevContainerProject(root: root, displayPath: displayPath, config: config)
    }

    // MARK: Building

    public func stateDirectory(_ engine: Engine) -> String { ProjectState(layout: engine.store.layout, root: root).directory }

    public var labels: [String: String] {
        ["org.opencontainers.image.title": name, "dev.devenv.project": root]
    }

    public func build(engine: Engine, noCache: Bool, executor: any StepExecutor, onWait: (() -> Void)? = nil,
                      events: (BuildEvent) -> Void = { _ in }, warn: (String) -> Void = { _ in }) throws -> BuildResult {
        let projectState = ProjectState(layout: engine.store.layout, root: root)
        try projectState.claim(root: root)
        let state = projectState.directory
        switch config.base {
        case let .image(image):
            let base = try baseImage(image, engine: engine)
            let request = self.request(base: base, baseName: image.value, noCache: noCache, stateDirectory: state)
            return try engine.builder(executor: executor).build(request, onWait: onWait, events: events)
        case let .dockerfile(dockerfile):
            let build = DockerfileBuild(engine: engine, source: DockerfileProjectBuild.source(dockerfile, root: root),
                                        stateDirectory: state, tag: "\(imageTag)-dockerfile")
            return try DockerfileProjectBuild.stacked(build, engine: engine, noCache: noCache, executor: executor, onWait: onWait,
                                                      events: events, warn: warn, topSteps: plannedSteps(baseUser: nil).count) { image in
                request(base: image, baseName: dockerfile.path.value, noCache: noCache, stateDirectory: state)
            }
        }
    }

    /// The `image` the project builds on, from the store or pulled; errors point at the line.
    func baseImage(_ image: Located<String>, engine: Engine) throws -> StoredImage {
        do {
            return try engine.resolve(try Reference(parsing: image.value))
        } catch {
            throw LocatedError(location: "\(displayPath):\(image.location.line):\(image.location.column)", underlying: error)
        }
    }

    func request(base: StoredImage, baseName: String, noCache: Bool, stateDirectory: String) -> BuildRequest {
        BuildRequest(base: base, baseName: baseName, steps: plannedSteps(baseUser: base.config.config?.user), tag: imageTag,
                     labels: labels, noCache: noCache, stateDirectory: stateDirectory)
    }

    /// `containerEnv`, then the create commands run in the workspace folder with the
    /// project mounted there, as the remote user (the image's user is restored after).
    func plannedSteps(baseUser: String?) -> [PlannedStep] {
        var steps: [PlannedStep] = []
        if !config.containerEnv.isEmpty {
            let variables = config.containerEnv.map { EnvironmentVariable(name: $0.name, value: $0.value) }
            steps.append(PlannedStep(step: .config([.env(variables)]), location: location(config.containerEnv[0].location)))
        }
        guard !config.createCommands.isEmpty else { return steps }
        let user = config.remoteUser ?? config.containerUser
        let switchUser = user != nil && user != (baseUser ?? "")
        if let user, switchUser {
            steps.append(PlannedStep(step: .user(user), location: location(config.createCommands[0].location)))
        }
        // As root the remote user writes the working tree as its owner would (idmapped), and
        // what it makes there is the owner's. Rootless it cannot yet (docs/dockerfile.md).
        let workspace = StepExecution.CacheMount(hostPath: root, containerPath: config.workspaceMountTarget, ownedByStepUser: true)
        for command in config.createCommands {
            let argv = Self.inDirectory(config.workspaceFolder, command.command)
            steps.append(PlannedStep(step: .runWithArguments(command: argv, arguments: [], cacheMounts: [config.workspaceMountTarget], network: .host),
                                     cacheMounts: [workspace], location: location(command.location)))
        }
        if switchUser {
            steps.append(PlannedStep(step: .user(baseUser ?? ""), location: location(config.createCommands[config.createCommands.count - 1].location)))
        }
        return steps
    }

    /// The command, run from `directory` (lifecycle commands start in the workspace folder).
    static func inDirectory(_ directory: String, _ command: Manifest.Command) -> [String] {
        switch command {
        case let .shell(script):
            return ["/bin/sh", "-c", "cd \(PackageInstaller.shellQuote(directory)) && \(script)"]
        case let .argv(arguments):
            return ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments
        }
    }

    private func location(_ location: SourceLocation) -> String { "\(displayPath):\(location.line)" }

    // MARK: Shells

    /// How `devenv shell` and `devenv run` enter the built image; `imageEnvironment` (the
    /// image config's `Env`) resolves `${containerEnv:NAME}` in `remoteEnv`.
    public func shell(imageEnvironment: [String]) -> DevContainerShell {
        var container: [String: String] = [:]
        for entry in imageEnvironment {
            let pieces = entry.split(separator: "=", maxSplits: 1).map(String.init)
            container[pieces[0]] = pieces.count == 2 ? pieces[1] : ""
        }
        let variables = DevContainerVariables(localEnvironment: [:], localWorkspaceFolder: root, containerWorkspaceFolder: config.workspaceFolder)
        let environment = config.remoteEnv.map { "\($0.name)=\(variables.substitute($0.value, containerEnvironment: container))" }
        return DevContainerShell(mountPoint: config.workspaceMountTarget, workingDirectory: config.workspaceFolder, environment: environment,
                                 user: config.remoteUser ?? config.containerUser, network: config.network, hostname: config.hostname,
                                 mounts: config.mounts, startCommands: config.startCommands.map(\.command), forwardPorts: config.forwardPorts)
    }
}

/// What a shell in an adopted devcontainer project needs, beyond the image.
public struct DevContainerShell: Sendable, Equatable {
    /// Mount the project directory here (read-write).
    public var mountPoint: String
    /// Start the shell or command here.
    public var workingDirectory: String
    /// `remoteEnv`, resolved: `KEY=VALUE` entries to add after the image's environment.
    public var environment: [String]
    /// `remoteUser` or `containerUser`: the account whose name and home the session should
    /// use when its uid is the host user's (devenv always runs as the host user's uid).
    public var user: String?
    /// nil: devenv's default (host).
    public var network: Manifest.Network?
    public var hostname: String?
    /// Extra bind mounts (`mounts` of type bind).
    public var mounts: [Manifest.Mount]
    /// `postStartCommand` then `postAttachCommand`: run in order before the shell or command,
    /// in the same container, from `workingDirectory`; a failure stops the session.
    public var startCommands: [Manifest.Command]
    /// Reachable on localhost already (host network); for messages.
    public var forwardPorts: [String]
}
