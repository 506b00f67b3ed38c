import DevenvAdopt
import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvRuntime
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
        DevContainerProject(root: root, displayPath: displayPath,
                            config: try DevContainerConfig.parse(bytes, root: root, displayPath: displayPath, environment: environment,
                                                                 devcontainerId: ProjectState.id(root: root)))
    }

    // MARK: Building

    public func stateDirectory(_ engine: Engine) -> String { ProjectState(layout: engine.store.layout, root: root).directory }

    public var labels: [String: String] {
        ["org.opencontainers.image.title": name]
    }

    public func build(engine: Engine, noCache: Bool, executor: any StepExecutor, onWait: (() -> Void)? = nil,
                      events: (BuildEvent) -> Void = { _ in }, warn: (String) -> Void = { _ in }) throws -> BuildResult {
        let projectState = ProjectState(layout: engine.store.layout, root: root)
        try projectState.claim(root: root)
        let state = projectState.directory
        let features = try resolveFeatures(engine: engine, stateDirectory: state)
        for message in features.warnings { warn(message) }
        switch config.base {
        case let .image(image):
            let base = try baseImage(image, engine: engine)
            let request = try self.request(base: base, baseName: image.value, noCache: noCache, stateDirectory: state, features: features)
            return try engine.builder(executor: executor).build(request, onWait: onWait, events: events)
        case let .dockerfile(dockerfile):
            let build = DockerfileBuild(engine: engine, source: DockerfileProjectBuild.source(dockerfile, root: root),
                                        stateDirectory: state, tag: "\(imageTag)-dockerfile")
            let topSteps = try plannedSteps(baseUser: nil, stateDirectory: state, features: features).count
            return try DockerfileProjectBuild.stacked(build, engine: engine, noCache: noCache, executor: executor, onWait: onWait,
                                                      events: events, warn: warn, topSteps: topSteps) { image in
                try request(base: image, baseName: dockerfile.path.value, noCache: noCache, stateDirectory: state, features: features)
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

    func request(base: StoredImage, baseName: String, noCache: Bool, stateDirectory: String, features: ResolvedFeatures) throws -> BuildRequest {
        var labels = labels
        // Always set: a base image's own label must not add commands to sessions.
        labels[FeatureStartCommands.labelKey] = FeatureStartCommands.label(features.startCommands)
        labels[FeatureMounts.labelKey] = features.mounts.label
        return BuildRequest(base: base, baseName: baseName,
                            steps: try plannedSteps(baseUser: base.config.config?.user, stateDirectory: stateDirectory, features: features),
                            tag: imageTag, labels: labels, noCache: noCache, stateDirectory: stateDirectory)
    }

    /// The features' install steps (each with its files mounted), then
    /// `DevContainerConfig.steps` with the features' create commands first and the project
    /// directory behind its project mounts.
    func plannedSteps(baseUser: String?, stateDirectory: String, features: ResolvedFeatures,
                      remoteUserUID: RemoteUserUID? = remoteUserUID()) throws -> [PlannedStep] {
        var config = config
        config.createCommands = features.createCommands + config.createCommands
        let installs = FeatureInstall.steps(features.installs, baseUser: baseUser, containerUser: config.containerUser, remoteUser: config.remoteUser)
        let featureSteps = installs.map { lowered, sourceMount in
            let mounts = sourceMount.flatMap { mount in
                features.sources[mount].map { [StepExecution.CacheMount(hostPath: $0, containerPath: mount)] }
            } ?? []
            return PlannedStep(step: lowered.step, definition: lowered.definition, cacheMounts: mounts, location: location(lowered.location))
        }
        return featureSteps + (try config.steps(baseUser: baseUser, remoteUserUID: remoteUserUID).map { lowered in
            PlannedStep(step: lowered.step, definition: lowered.definition,
                        cacheMounts: try StepMounts.directories(for: lowered.step, stateDirectory: stateDirectory, projectRoot: root),
                        location: location(lowered.location))
        })
    }

    // MARK: Features

    /// The lock beside devcontainer.json.
    public var featureLockPath: String { DevContainerLock.path(forConfig: "\(root)/\(displayPath)") }

    /// The features fetched (pinned by devcontainer-lock.json when it has them) and ordered.
    func resolveFeatures(engine: Engine, stateDirectory: String, honourLock: Bool = true) throws -> ResolvedFeatures {
        guard !config.features.isEmpty else { return .none }
        var fetcher = FeatureFetcher(engine: engine, stateDirectory: stateDirectory)
        if honourLock, let lock = try DevContainerLock.read(featureLockPath) { fetcher.pins = lock.features }
        return try FeatureResolver(project: self, fetcher: fetcher).resolve()
    }

    /// `devenv lock`: resolves every feature's reference again and writes
    /// devcontainer-lock.json (the devcontainers/cli format); local features are not pinned.
    public func lockFeatures(engine: Engine) throws -> DevContainerLock {
        let projectState = ProjectState(layout: engine.store.layout, root: root)
        try projectState.claim(root: root)
        let lock = try resolveFeatures(engine: engine, stateDirectory: projectState.directory, honourLock: false).lock
        try lock.write(featureLockPath)
        return lock
    }

    private func location(_ location: SourceLocation) -> String { "\(displayPath):\(location.line)" }

    /// Rootless, the remote user takes the host user's ids (`updateRemoteUserUID`, the Dev
    /// Containers default on Linux): the working tree is the host user's, and devenv's
    /// mapping keeps that uid as itself. As root the tree is idmapped to the remote user
    /// instead (`StepMounts`), so root's builds are unchanged.
    static func remoteUserUID(host: HostIdentity = .current()) -> RemoteUserUID? {
        guard !host.isRoot, host.idMapping != nil else { return nil }
        return RemoteUserUID(uid: host.uid, gid: host.gid)
    }

    // MARK: Shells

    /// How `devenv shell` and `devenv run` enter the built image; `imageEnvironment` (the
    /// image config's `Env`) resolves `${containerEnv:NAME}` in `remoteEnv`.
    public func shell(imageEnvironment: [String], imageLabels: [String: String] = [:]) -> DevContainerShell {
        var shell = config.shell(root: root, imageEnvironment: imageEnvironment)
        shell.startCommands = FeatureStartCommands.read(imageLabels[FeatureStartCommands.labelKey]) + shell.startCommands
        let features = FeatureMounts.read(imageLabels[FeatureMounts.labelKey])
        shell.volumes = features.volumes + shell.volumes
        shell.mounts = features.mounts(root: root, location: .start) + shell.mounts
        return shell
    }
}
