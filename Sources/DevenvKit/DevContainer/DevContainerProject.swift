import DevenvAdopt
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
        DevContainerProject(root: root, displayPath: displayPath,
                            config: try DevContainerConfig.parse(bytes, root: root, displayPath: displayPath, environment: environment))
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
        switch config.base {
        case let .image(image):
            let base = try baseImage(image, engine: engine)
            let request = try self.request(base: base, baseName: image.value, noCache: noCache, stateDirectory: state)
            return try engine.builder(executor: executor).build(request, onWait: onWait, events: events)
        case let .dockerfile(dockerfile):
            let build = DockerfileBuild(engine: engine, source: DockerfileProjectBuild.source(dockerfile, root: root),
                                        stateDirectory: state, tag: "\(imageTag)-dockerfile")
            return try DockerfileProjectBuild.stacked(build, engine: engine, noCache: noCache, executor: executor, onWait: onWait,
                                                      events: events, warn: warn, topSteps: config.steps(baseUser: nil).count) { image in
                try request(base: image, baseName: dockerfile.path.value, noCache: noCache, stateDirectory: state)
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

    func request(base: StoredImage, baseName: String, noCache: Bool, stateDirectory: String) throws -> BuildRequest {
        BuildRequest(base: base, baseName: baseName, steps: try plannedSteps(baseUser: base.config.config?.user, stateDirectory: stateDirectory),
                     tag: imageTag, labels: labels, noCache: noCache, stateDirectory: stateDirectory)
    }

    /// `DevContainerConfig.steps` with the project directory behind its project mounts.
    func plannedSteps(baseUser: String?, stateDirectory: String) throws -> [PlannedStep] {
        try config.steps(baseUser: baseUser).map { lowered in
            PlannedStep(step: lowered.step, definition: lowered.definition,
                        cacheMounts: try StepMounts.directories(for: lowered.step, stateDirectory: stateDirectory, projectRoot: root),
                        location: location(lowered.location))
        }
    }

    private func location(_ location: SourceLocation) -> String { "\(displayPath):\(location.line)" }

    // MARK: Shells

    /// How `devenv shell` and `devenv run` enter the built image; `imageEnvironment` (the
    /// image config's `Env`) resolves `${containerEnv:NAME}` in `remoteEnv`.
    public func shell(imageEnvironment: [String]) -> DevContainerShell {
        config.shell(root: root, imageEnvironment: imageEnvironment)
    }
}
