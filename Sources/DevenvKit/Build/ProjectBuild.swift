import DevenvBuild
import DevenvGit
import DevenvManifest
import DevenvOCI
import DevenvRegistry
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
    public var stateDirectory: String { state.directory }
    var state: ProjectState { ProjectState(layout: engine.store.layout, root: project.root) }

    /// The label naming the cache key of the environment an image holds.
    public static let cacheKeyLabel = "dev.devenv.cache-key"

    /// How the environment was obtained.
    public enum Outcome: Sendable {
        case built(BuildResult)
        /// Pulled from the `[cache] registry` instead of building.
        case fetched(StoredImage, from: Reference)
        /// The project's image already holds this environment (fetched earlier).
        case upToDate(StoredImage)

        public var image: StoredImage {
            switch self {
            case let .built(result): return result.image
            case let .fetched(image, _), let .upToDate(image): return image
            }
        }
    }

    public func build(options: Options, executor: any StepExecutor, onWait: (() -> Void)? = nil,
                      note: (String) -> Void = { _ in }, events: (BuildEvent) -> Void = { _ in }) throws -> Outcome {
        // The lock records only what built: a failed build leaves it as it was.
        let lockBefore = try FileDescriptor.readRegularFileIfPresent(project.lockPath, limit: Manifest.maxFileSize, operation: "read the lock file")
        do {
            return try buildRecordingLock(options: options, executor: executor, onWait: onWait, note: note, events: events)
        } catch {
            if let lockBefore { try? AtomicFile.write(Data(lockBefore), to: project.lockPath) } else { unlink(project.lockPath) }
            throw error
        }
    }

    private func buildRecordingLock(options: Options, executor: any StepExecutor, onWait: (() -> Void)?,
                                    note: (String) -> Void, events: (BuildEvent) -> Void) throws -> Outcome {
        if project.manifest.base.dockerfile != nil {
            return .built(try buildOnDockerfile(options: options, executor: executor, onWait: onWait, events: events))
        }
        var request = try request(options: options)
        let key = Builder.environmentKey(request)
        request.labels[Self.cacheKeyLabel] = key.description
        let builder = engine.builder(executor: executor)
        if !options.noCache, !builder.isFullyCached(request), let prebuilt = try prebuiltReference(key: key) {
            if let local = try? engine.store.image(project.imageTag), local.config.config?.labels?[Self.cacheKeyLabel] == key.description {
                return .upToDate(local)
            }
            if let image = try fetchPrebuilt(prebuilt, note: note) { return .fetched(image, from: prebuilt) }
        }
        let result = try builder.build(request, onWait: onWait, events: events)
        if !options.frozen { try recordPackages(request, image: result.image) }
        return .built(result)
    }

    // MARK: Status

    public struct Status: Sendable, Encodable {
        public enum LockState: String, Sendable, Encodable {
            case current, stale, missing
            /// The project kind has no lock file (devcontainer.json).
            case notApplicable = "not-applicable"
        }

        public struct PendingStep: Sendable, Encodable {
            public var number: Int
            public var location: String
            public var summary: String
            public var reason: String
        }

        public var project: String
        public var manifest: String
        public var image: String
        public var base: String
        public var baseDigest: String
        public var lock: LockState
        /// Steps a build would run now, with why; empty when the environment is up to date.
        public var pending: [PendingStep]
        public var built: Bool
    }

    /// What `devenv build` would do, without doing it or writing anything.
    public func status() throws -> Status {
        if project.manifest.base.dockerfile != nil { throw DockerfileProjectBuild.unsupported("devenv status", project) }
        let lock = try Lockfile.load(path: project.lockPath)
        let (request, changes) = try lockedRequest(options: Options(), recordLock: false, base: nil)
        let lockState: Status.LockState = lock == nil ? .missing : (changes.isEmpty ? .current : .stale)
        let built = (try? engine.store.image(project.imageTag)) != nil
        return Status(project: project.root, manifest: project.displayPath, image: project.imageTag, base: request.baseName,
                      baseDigest: request.base.manifestDescriptor.digest.description, lock: lockState,
                      pending: Self.pending(request, store: engine.store, previous: state.record()), built: built)
    }

    /// The steps a build of `request` would run now, each with why; `previous` is the last build's record.
    static func pending(_ request: BuildRequest, store: ImageStore, previous: BuildRecord?) -> [Status.PendingStep] {
        let builder = Builder(store: store, executor: NoExecutor())
        let keys = Builder.cacheKeys(request)
        var pending: [Status.PendingStep] = []
        var parent = CacheKey.base(manifest: request.base.manifestDescriptor.digest)
        for (index, planned) in request.steps.enumerated() {
            defer { parent = keys[index] }
            guard builder.cache.lookup(keys[index]) == nil else { continue }
            let current = BuildRecord.Step(key: keys[index], parent: parent, step: planned.step, definition: planned.definition,
                                           inputs: planned.inputs, location: planned.location)
            let reason = Explainer.reason(index: index, current: current, base: (request.baseName, request.base.manifestDescriptor.digest),
                                          previous: previous, rebuiltBefore: pending.last?.number, noCache: false)
            pending.append(Status.PendingStep(number: index + 1, location: planned.location, summary: planned.summary, reason: reason.description))
        }
        return pending
    }

    /// `status` never runs a step.
    private struct NoExecutor: StepExecutor {
        func execute(_ execution: StepExecution) throws -> Int32 { 125 }
    }

    // MARK: Prebuilt environments

    /// `[cache] registry` tagged with the environment's cache key, or nil without a cache registry.
    func prebuiltReference(key: Digest) throws -> Reference? {
        guard let cache = project.manifest.cache else { return nil }
        do {
            return try Reference(parsing: cache.registry.value).withTag("key-\(key.encoded)")
        } catch {
            throw KitError.invalidManifestValue(location: "\(project.displayPath):\(cache.registry.location)", key: "[cache] registry", reason: "\(error)")
        }
    }

    /// Pulls the prebuilt environment if the registry has it and names it as this project's
    /// image; nil (and a note saying why) when it has to be built here instead.
    private func fetchPrebuilt(_ reference: Reference, note: (String) -> Void) throws -> StoredImage? {
        let client = try engine.registry()
        do {
            guard try client.exists(reference) != nil else {
                note("no prebuilt environment at \(reference.familiar); building it here")
                return nil
            }
            let pulled = try client.pull(reference, into: engine.store, progress: engine.transferProgress)
            try engine.store.references.set(Reference(parsing: project.imageTag).description, to: pulled.manifestDescriptor)
            note("fetched the prebuilt environment \(reference.familiar) instead of building")
            return try engine.store.image(project.imageTag)
        } catch let error as RegistryError {
            note("could not reach the cache registry (\(error)); building here")
            return nil
        }
    }

    /// `devenv build --push`: publish the environment under its cache key.
    public func push(_ image: StoredImage, progress: TransferProgress? = nil) throws -> Reference? {
        guard let key = image.config.config?.labels?[Self.cacheKeyLabel].flatMap({ try? Digest(parsing: $0) }),
              let reference = try prebuiltReference(key: key) else { return nil }
        _ = try engine.registry().push(image, from: engine.store, to: reference, progress: progress)
        return reference
    }

    /// `base`: an already built base (a Dockerfile's target) instead of `[base] image`.
    /// The lock is checked (`--frozen`) or brought up to date with the planned steps.
    public func request(options: Options, recordLock: Bool = true, base prebuilt: ResolvedBase? = nil) throws -> BuildRequest {
        try lockedRequest(options: options, recordLock: recordLock, base: prebuilt).request
    }

    /// The request, and the lock changes it makes (none under `--frozen`, which throws instead).
    func lockedRequest(options: Options, recordLock: Bool, base prebuilt: ResolvedBase?) throws -> (request: BuildRequest, lockChanges: [LockChange]) {
        // Builds do not use [limits], but a mistake there is reported as early as any other.
        _ = try project.limits()
        try state.claim(root: project.root)
        let resolved = try prebuilt ?? resolveBase(frozen: options.frozen, rebuild: options.noCache, recordLock: recordLock)
        let steps = try BuildPlanner(project: project, stateDirectory: stateDirectory, pins: packagePins(try Lockfile.load(path: project.lockPath))).plan()
        let changes = try settleLock(resolved, steps: steps, frozen: options.frozen, record: recordLock)
        return (request(base: resolved, steps: steps, noCache: options.noCache), changes)
    }

    /// The build of `steps` on `base`, named and labelled as the project's environment.
    func request(base: ResolvedBase, steps: [PlannedStep], noCache: Bool) -> BuildRequest {
        // Nothing host-specific (the checkout's path): equal inputs give an equal image on
        // any machine. gc finds the checkout through the project's state (`project.json`).
        var labels = ["org.opencontainers.image.title": project.name]
        if let repository = try? GitRepository.discover(from: project.root), let commit = try? repository.headCommit {
            labels["org.opencontainers.image.revision"] = commit
        }
        return BuildRequest(base: base.image, baseName: base.name, steps: steps, tag: project.imageTag, labels: labels,
                            noCache: noCache, stateDirectory: stateDirectory)
    }

    // MARK: The base

    /// The image base as written (the manifest has one whenever it has no distro).
    var baseText: Located<String> { project.manifest.base.image ?? Located("", at: project.manifest.base.location) }

    func baseReference() throws -> Reference {
        do {
            return try Reference(parsing: baseText.value)
        } catch {
            throw KitError.invalidManifestValue(location: "\(project.displayPath):\(baseText.location)", key: "[base] image", reason: "\(error)")
        }
    }

    func distroResolver() -> DistroBaseResolver? {
        guard let distro = project.manifest.base.distro else { return nil }
        var bootstrapper = DistroBootstrapper(store: engine.store)
        bootstrapper.output = bootstrapOutput
        bootstrapper.events = bootstrapEvents
        return DistroBaseResolver(engine: engine, project: project, distro: distro, bootstrapper: bootstrapper)
    }
}

/// A missing or stale lock under `--frozen`: its own exit code, so CI can tell it apart.
public struct LockError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
