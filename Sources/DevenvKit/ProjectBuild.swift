import DevenvBuild
import DevenvGit
import DevenvManifest
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `devenv build` for a project: resolve the base through the lock file, plan the steps,
/// and hand them to the builder.
public struct ProjectBuild {
    public struct Options: Sendable {
        public var frozen = false
        public var noCache = false

        public init(frozen: Bool = false, noCache: Bool = false) {
            self.frozen = frozen
            self.noCache = noCache
        }
    }

    public let engine: Engine
    public let project: Project
    /// How a `[base] distro` bootstrap shows its progress.
    public var bootstrapOutput: DistroBootstrapper.Output = .log
    public var bootstrapEvents: (DistroBootstrapEvent) -> Void = { _ in }

    public init(engine: Engine, project: Project) {
        self.engine = engine
        self.project = project
    }

    /// Per-project state in the store: build record, stat cache, cache mounts, lock.
    public var stateDirectory: String { "\(engine.store.layout.root)/projects/\(project.id)" }

    public func build(options: Options, executor: any StepExecutor, onWait: (() -> Void)? = nil, events: (BuildEvent) -> Void = { _ in }) throws -> BuildResult {
        let request = try request(options: options)
        return try Builder(store: engine.store, executor: executor).build(request, onWait: onWait, events: events)
    }

    public func request(options: Options) throws -> BuildRequest {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let (base, baseName) = try resolveBase(frozen: options.frozen, rebuild: options.noCache)
        let steps = try BuildPlanner(project: project, stateDirectory: stateDirectory).plan()
        var labels = [
            "org.opencontainers.image.title": project.name,
            "dev.devenv.project": project.root,
        ]
        if let repository = try? GitRepository.discover(from: project.root), let commit = try? repository.headCommit {
            labels["org.opencontainers.image.revision"] = commit
        }
        return BuildRequest(base: base, baseName: baseName, steps: steps, tag: project.imageTag, labels: labels,
                            noCache: options.noCache, stateDirectory: stateDirectory)
    }

    // MARK: The base and the lock

    /// The image base as written (the manifest has one whenever it has no distro).
    var baseText: Located<String> { project.manifest.base.image ?? Located("", at: project.manifest.base.location) }

    func baseReference() throws -> Reference {
        do {
            return try Reference(parsing: baseText.value)
        } catch {
            throw KitError.invalidArgument("\(project.displayPath):\(baseText.location): error: [base] image: \(error)")
        }
    }

    /// The base image to build on. With a current lock the locked digest wins over wherever
    /// the tag points now; without one the tag is resolved and the lock written.
    func resolveBase(frozen: Bool, rebuild: Bool = false) throws -> (StoredImage, String) {
        if let resolver = distroResolver() { return try resolver.resolve(frozen: frozen, rebuild: rebuild) }
        let reference = try baseReference()
        let lock = try Lockfile.load(path: project.lockPath)
        let current = lock.map { $0.distro == nil && $0.base == baseText.value } ?? false
        if frozen && !current {
            throw LockError(message: lock == nil
                ? "\(project.displayPath): --frozen: there is no .devenv/devenv.lock\nhint: run `devenv lock` and commit .devenv/devenv.lock"
                : "\(project.displayPath): --frozen: .devenv/devenv.lock is stale (it locks base '\(Printable.escape(lock!.base))', the manifest says '\(Printable.escape(baseText.value))')\nhint: run `devenv lock` and commit .devenv/devenv.lock")
        }
        if let lock, current {
            return (try engine.image(digest: lock.baseDigest, name: reference), reference.familiar)
        }
        let image = try engine.resolve(reference)
        try writeLock(Lockfile(base: baseText.value, baseDigest: image.manifestDescriptor.digest))
        return (image, reference.familiar)
    }

    /// `devenv lock`: resolve the base anew and record it.
    public func lock() throws -> Lockfile {
        if let resolver = distroResolver() { return try resolver.lock() }
        let image = try engine.resolve(try baseReference())
        let lock = Lockfile(base: baseText.value, baseDigest: image.manifestDescriptor.digest)
        try writeLock(lock)
        return lock
    }

    private func distroResolver() -> DistroBaseResolver? {
        guard let distro = project.manifest.base.distro else { return nil }
        var bootstrapper = DistroBootstrapper(store: engine.store)
        bootstrapper.output = bootstrapOutput
        bootstrapper.events = bootstrapEvents
        return DistroBaseResolver(engine: engine, project: project, distro: distro, bootstrapper: bootstrapper)
    }

    private func writeLock(_ lock: Lockfile) throws {
        if let existing = try? Lockfile.load(path: project.lockPath), existing == lock { return }
        try AtomicFile.write(Data(lock.render().utf8), to: project.lockPath)
    }
}

/// A missing or stale lock under `--frozen`: its own exit code, so CI can tell it apart.
public struct LockError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
