import DevenvBuild
import DevenvOCI
import DevenvStore

/// `devenv status` and `devenv lock` for whichever kind of project `ProjectLocator` found.
extension ProjectSource {
    /// What `devenv build` would do, without doing it.
    public func status(engine: Engine) throws -> ProjectBuild.Status {
        switch self {
        case let .manifest(project): return try ProjectBuild(engine: engine, project: project).status()
        case let .devContainer(project): return try project.status(engine: engine)
        }
    }
}

extension DevContainerProject {
    /// The image, its base and the steps (`containerEnv`, create commands) a build would run
    /// now. A devcontainer.json has no lock file: the base is `image` as written.
    public func status(engine: Engine) throws -> ProjectBuild.Status {
        guard case let .image(image) = config.base else {
            throw KitError.unsupported(command: "devenv status", project: displayPath, what: "a `build` from a Dockerfile",
                                       hint: "`devenv build --explain` says what would run")
        }
        let base = try baseImage(image, engine: engine)
        let state = ProjectState(layout: engine.store.layout, root: root)
        let features = try resolveFeatures(engine: engine, stateDirectory: state.directory)
        let request = try request(base: base, baseName: image.value, noCache: false, stateDirectory: state.directory, features: features)
        let built = (try? engine.store.image(imageTag)) != nil
        return ProjectBuild.Status(project: root, manifest: displayPath, image: imageTag, base: request.baseName,
                                   baseDigest: base.manifestDescriptor.digest.description, lock: .notApplicable,
                                   pending: ProjectBuild.pending(request, store: engine.store, previous: state.record()), built: built)
    }

    /// Why `devenv lock` cannot pin this project, and how to pin it by hand: for an `image`,
    /// the digest it resolves to now.
    public func lockRefusal(engine: Engine) throws -> KitError {
        let reason = "a devcontainer.json has no lock file; devenv builds it as written"
        switch config.base {
        case let .image(image):
            let base = try baseImage(image, engine: engine)
            var pinned = try Reference(parsing: image.value)
            pinned.tag = nil
            pinned.digest = base.manifestDescriptor.digest
            return .notLockable(project: displayPath, reason: reason,
                                hint: "to make it reproducible, pin \"image\" by digest: \"\(pinned.familiar)\"")
        case .dockerfile:
            return .notLockable(project: displayPath, reason: reason,
                                hint: "to make it reproducible, pin the Dockerfile's FROM images by digest (FROM image@sha256:…)")
        }
    }
}
