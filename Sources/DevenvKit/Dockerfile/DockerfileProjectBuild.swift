import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvStore
import Foundation

/// `[base] dockerfile = "…"` in a devenv.toml (and `build.dockerfile` in a devcontainer.json):
/// the Dockerfile's target is built first (its stages cached like any steps), then the
/// project's own steps run on top of it as one more cached build.
enum DockerfileProjectBuild {
    static func unsupported(_ command: String, _ project: Project) -> KitError {
        KitError.unsupported(command: command, project: project.displayPath, what: "a [base] built from a Dockerfile", hint: "`devenv build --explain` says what would run")
    }

    static func source(_ base: Manifest.DockerfileBase, root: String) -> DockerfileBuild.Source {
        var arguments: [String: String] = [:]
        for argument in base.args { arguments[argument.name] = argument.value }
        return DockerfileBuild.Source(dockerfile: "\(root)/\(base.path.value)", displayPath: base.path.value,
                                      context: base.context.map { "\(root)/\($0.value)" } ?? root,
                                      target: base.target?.value, arguments: arguments)
    }

    /// Builds `dockerfile`'s target, then the request `top` makes for it; outcomes and
    /// progress are numbered across both.
    static func stacked(_ dockerfile: DockerfileBuild, engine: Engine, noCache: Bool, executor: any StepExecutor, onWait: (() -> Void)?,
                        events: (BuildEvent) -> Void, warn: (String) -> Void, topSteps: Int,
                        top: (StoredImage) throws -> BuildRequest) throws -> BuildResult {
        try stacked(dockerfile, engine: engine, noCache: noCache, executor: executor, onWait: onWait, events: events, warn: warn,
                    topSteps: topSteps) { image, _ in try top(image) }
    }

    /// `top` also hears the images the Dockerfile's FROM and `COPY --from` lines resolved to.
    static func stacked(_ dockerfile: DockerfileBuild, engine: Engine, noCache: Bool, executor: any StepExecutor, onWait: (() -> Void)?,
                        events: (BuildEvent) -> Void, warn: (String) -> Void, topSteps: Int,
                        top: (StoredImage, [String: Digest]) throws -> BuildRequest) throws -> BuildResult {
        let planned = (try? dockerfile.plan().0.stages.reduce(0) { $0 + $1.steps.count }) ?? 0
        let (base, images) = try dockerfile.buildResolvingImages(noCache: noCache, executor: executor, onWait: onWait, events: { event in
            if case let .stepStarted(number, _, summary) = event {
                events(.stepStarted(number: number, total: planned + topSteps, summary: summary))
            } else {
                events(event)
            }
        }, warn: warn)
        let request = try top(base.image, images)
        let offset = base.steps.count
        let result = try engine.builder(executor: executor).build(request, onWait: onWait) { event in
            switch event {
            case let .stepStarted(number, total, summary):
                events(.stepStarted(number: number + offset, total: total + offset, summary: summary))
            case let .stepFinished(outcome):
                events(.stepFinished(outcome.shifted(by: offset)))
            }
        }
        return BuildResult(image: result.image, steps: base.steps + result.steps.map { $0.shifted(by: offset) })
    }
}

extension ProjectBuild {
    func dockerfileBuild(_ dockerfile: Manifest.DockerfileBase, images: DockerfileBaseResolver.Mode) -> DockerfileBuild {
        var build = DockerfileBuild(engine: engine, source: DockerfileProjectBuild.source(dockerfile, root: project.root),
                                    stateDirectory: stateDirectory, tag: "\(project.imageTag)-dockerfile")
        build.images = images
        return build
    }

    /// The Dockerfile's images come from the lock when it locks this Dockerfile (so a moved
    /// tag changes nothing until `devenv lock`); `--frozen` also holds the Dockerfile's text
    /// and the project's steps to the lock.
    func buildOnDockerfile(options: Options, executor: any StepExecutor, onWait: (() -> Void)?, events: (BuildEvent) -> Void) throws -> BuildResult {
        guard let dockerfile = project.manifest.base.dockerfile else { throw KitError.nothingToBuild(dockerfile: project.displayPath) }
        let lock = try Lockfile.load(path: project.lockPath)
        var pins: [String: Digest] = [:]
        if case .dockerfile(dockerfile.path.value, _)? = lock?.baseLock { pins = lock?.images ?? [:] }
        let build = dockerfileBuild(dockerfile, images: .pinned(pins, frozen: options.frozen))
        let baseLock = Lockfile.Base.dockerfile(dockerfile.path.value, digest: try build.dockerfileDigest())
        if options.frozen {
            guard let lock else { throw LockError(message: "\(project.displayPath): --frozen: there is no .devenv/devenv.lock\n\(LockError.hint)") }
            let changes = LockComparison.changes(from: Lockfile(base: lock.baseLock), to: Lockfile(base: baseLock))
            if !changes.isEmpty { throw LockError.stale(project.displayPath, changes) }
        }
        var top: BuildRequest?
        let result = try DockerfileProjectBuild.stacked(build, engine: engine, noCache: options.noCache, executor: executor, onWait: onWait,
                                                        events: events, warn: { _ in }, topSteps: project.manifest.steps.count) { image, images in
            top = try request(options: options, base: ResolvedBase(image: image, name: dockerfile.path.value, lock: baseLock, images: images))
            return top!
        }
        // The project's `packages` steps are locked as on any other base.
        if !options.frozen, let top { try recordPackages(top, image: result.image) }
        return result
    }
}

extension LockError {
    /// `--frozen` for a build that has no lock file (a Dockerfile or devcontainer.json base).
    public static func notLocked(_ what: String) -> LockError {
        LockError(message: "--frozen: \(what) has no lock; pin its images by digest (image@sha256:…) to make it reproducible")
    }
}
