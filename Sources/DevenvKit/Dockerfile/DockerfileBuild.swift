import DevenvAdopt
import DevenvArchive
import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvPlan
import DevenvRuntime
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds a Dockerfile's target with devenv's builder: every stage the target needs, in
/// order, each as a cached build (so `--explain` works per instruction), stages building on
/// or copying from the ones before. Stage images are named `<name>:<id>-stage-<n>`; the
/// target gets `tag`.
public struct DockerfileBuild {
    public struct Source: Sendable {
        /// Absolute path of the Dockerfile.
        public var dockerfile: String
        /// How messages name it (`Dockerfile`, `docker/dev.Dockerfile`).
        public var displayPath: String
        /// Absolute path of the build context directory.
        public var context: String
        public var target: String?
        public var arguments: [String: String]

        public init(dockerfile: String, displayPath: String, context: String, target: String? = nil, arguments: [String: String] = [:]) {
            self.dockerfile = dockerfile
            self.displayPath = displayPath
            self.context = context
            self.target = target
            self.arguments = arguments
        }
    }

    public let engine: Engine
    public let source: Source
    /// Per-project state: stat cache, cache mounts, inline files. Stage `n` keeps its build
    /// record in `<stateDirectory>-stage-<n>`.
    public let stateDirectory: String
    /// The target's name; other stages are named after it.
    public let tag: String
    public let labels: [String: String]
    /// How FROM and `COPY --from` images resolve (the lock's pins, for a project's Dockerfile base).
    public var images: DockerfileBaseResolver.Mode = .store

    public init(engine: Engine, source: Source, stateDirectory: String, tag: String, labels: [String: String] = [:]) {
        self.engine = engine
        self.source = source
        self.stateDirectory = stateDirectory
        self.tag = tag
        self.labels = labels
    }

    /// Reads and parses the Dockerfile (errors are `ManifestError`s naming its lines).
    public func parse() throws -> Dockerfile {
        let bytes = try FileDescriptor.readRegularFile(source.dockerfile, limit: Dockerfile.maxFileSize, operation: "read the Dockerfile")
        return try Dockerfile.parse(bytes, path: source.displayPath)
    }

    /// The digest of the Dockerfile's text, which a project's lock records.
    func dockerfileDigest() throws -> Digest {
        Digest.sha256(Data(try FileDescriptor.readRegularFile(source.dockerfile, limit: Dockerfile.maxFileSize, operation: "read the Dockerfile")))
    }

    /// Plans the target: which stages, which steps (bases are resolved in the store).
    public func plan() throws -> (DockerfilePlan, DockerfileBaseResolver) {
        let dockerfile = try parse()
        let resolver = DockerfileBaseResolver(engine: engine, displayPath: source.displayPath, mode: images)
        let planner = DockerfilePlanner(dockerfile: dockerfile, options: .init(target: source.target, arguments: source.arguments)) { word in
            try resolver.image(word).config.config ?? ImageConfig.RunConfig()
        }
        return (try planner.plan(), resolver)
    }

    /// `warn` hears about build arguments nothing used.
    public func build(noCache: Bool, executor: any StepExecutor, onWait: (() -> Void)? = nil,
                      events: (BuildEvent) -> Void = { _ in }, warn: (String) -> Void = { _ in }) throws -> BuildResult {
        try buildResolvingImages(noCache: noCache, executor: executor, onWait: onWait, events: events, warn: warn).result
    }

    /// The build and the images its FROM and `COPY --from` lines resolved to.
    func buildResolvingImages(noCache: Bool, executor: any StepExecutor, onWait: (() -> Void)?,
                              events: (BuildEvent) -> Void, warn: (String) -> Void) throws -> (result: BuildResult, images: [String: Digest]) {
        let (plan, resolver) = try plan()
        if !plan.unusedArguments.isEmpty {
            warn("\(source.displayPath): build arguments not used by any ARG: \(plan.unusedArguments.map { Printable.escape($0) }.joined(separator: ", "))")
        }
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let statCache = StatCache(path: "\(stateDirectory)/\(ProjectState.statCacheFile)")
        defer { statCache.save() }
        let context = try DockerfileContext(root: source.context, dockerfile: source.dockerfile, statCache: statCache)
        let mirrors = StageMirror.Directories(stateDirectory: stateDirectory)
        defer { mirrors.remove() }
        var planner = StepPlanner(engine: engine, source: source, stateDirectory: stateDirectory, context: context,
                                  statCache: statCache, resolver: resolver, mirrors: mirrors)
        let total = plan.stages.reduce(0) { $0 + $1.steps.count }
        var outcomes: [StepOutcome] = []
        var image: StoredImage?
        for stage in plan.stages {
            let (base, baseName) = try planner.base(of: stage)
            let steps = try stage.steps.map { try planner.planned($0, in: stage) }
            let isTarget = stage.index == plan.target.index
            let request = BuildRequest(base: base, baseName: baseName, steps: steps, tag: isTarget ? tag : "\(tag)-stage-\(stage.index)",
                                       labels: isTarget ? labels : [:], noCache: noCache,
                                       stateDirectory: "\(stateDirectory)-stage-\(stage.index)")
            try FileManager.default.createDirectory(atPath: request.stateDirectory, withIntermediateDirectories: true)
            let offset = outcomes.count
            let prefix = plan.stages.count > 1 ? "[\(stage.displayName)] " : ""
            let result = try engine.builder(executor: executor).build(request, onWait: onWait) { event in
                switch event {
                case let .stepStarted(number, _, summary):
                    events(.stepStarted(number: number + offset, total: total, summary: prefix + summary))
                case let .stepFinished(outcome):
                    events(.stepFinished(outcome.shifted(by: offset, prefix: prefix)))
                }
            }
            outcomes += result.steps.map { $0.shifted(by: offset, prefix: prefix) }
            planner.built[stage.index] = (result.image, stage.displayName)
            image = result.image
        }
        guard let image else { throw KitError.nothingToBuild(dockerfile: source.displayPath) }
        return (BuildResult(image: image, steps: outcomes), resolver.resolved)
    }
}

/// FROM and `COPY --from` images, resolved once per build: through the lock's pins when
/// there are any, else in the store (pulled when missing), or asking the registry again
/// (`devenv lock`). A missing image is reported at the line that names it; `resolved`
/// is what the lock records.
public final class DockerfileBaseResolver: @unchecked Sendable {
    public enum Mode: Sendable {
        /// The store's image for a tag (pulled when the store has none).
        case store
        /// The lock's digest for each image it names; `frozen` refuses any other image.
        case pinned([String: Digest], frozen: Bool)
        /// Ask the registry again where each tag points (`devenv lock`).
        case fresh
    }

    let engine: Engine
    let displayPath: String
    let mode: Mode
    private var images: [String: StoredImage] = [:]
    /// Every image word resolved so far, with its manifest digest.
    public private(set) var resolved: [String: Digest] = [:]

    init(engine: Engine, displayPath: String, mode: Mode = .store) {
        self.engine = engine
        self.displayPath = displayPath
        self.mode = mode
    }

    func image(_ word: Word) throws -> StoredImage {
        if let image = images[word.value] { return image }
        let location = "\(displayPath):\(word.location.line):\(word.location.column)"
        do {
            let reference = try Reference(parsing: word.value)
            let image: StoredImage
            switch mode {
            case let .pinned(pins, _) where pins[word.value] != nil:
                image = try engine.image(digest: pins[word.value]!, name: reference)
            case .pinned(_, frozen: true) where reference.digest == nil:
                throw LockError(message: "--frozen: the image '\(Printable.escape(word.value))' is not in .devenv/devenv.lock\nhint: run `devenv lock` and commit .devenv/devenv.lock")
            case .fresh:
                image = try engine.refresh(reference)
            default:
                image = try engine.resolve(reference)
            }
            images[word.value] = image
            resolved[word.value] = image.manifestDescriptor.digest
            return image
        } catch {
            throw LocatedError(location: location, underlying: error)
        }
    }

    /// Resolves every image `plan` names, as a build would (`COPY --from` images included).
    func resolveAll(_ plan: DockerfilePlan) throws {
        for stage in plan.stages {
            if case let .image(word) = stage.base { _ = try image(word) }
            for step in stage.steps {
                if case let .image(word)? = step.copy?.origin { _ = try image(word) }
            }
        }
    }
}

/// A failure at a place in a project file (`Dockerfile:3:6`); the underlying error decides
/// the exit code (an image missing from the store is still "not found").
public struct LocatedError: Error, CustomStringConvertible, Sendable {
    public let location: String
    public let underlying: any Error

    public init(location: String, underlying: any Error) {
        self.location = location
        self.underlying = underlying
    }

    public var description: String { "\(location): \(underlying)" }
}

/// Turns lowered Dockerfile steps into the builder's steps: cache mount directories, the
/// files of each COPY (from the context, a stage or an image).
struct StepPlanner {
    let engine: Engine
    let source: DockerfileBuild.Source
    let stateDirectory: String
    let context: DockerfileContext
    let statCache: StatCache
    let resolver: DockerfileBaseResolver
    /// Rootless `COPY --from` reads its files from these (`StageMirror`).
    let mirrors: StageMirror.Directories
    /// Built stages by index, with their display names.
    var built: [Int: (StoredImage, String)] = [:]
    /// Keeps the snapshots of stages copied from safe from gc until the build ends.
    private var leases: [Lease] = []

    init(engine: Engine, source: DockerfileBuild.Source, stateDirectory: String, context: DockerfileContext,
         statCache: StatCache, resolver: DockerfileBaseResolver, mirrors: StageMirror.Directories) {
        self.engine = engine
        self.source = source
        self.stateDirectory = stateDirectory
        self.context = context
        self.statCache = statCache
        self.resolver = resolver
        self.mirrors = mirrors
    }

    func base(of stage: PlannedStage) throws -> (StoredImage, String) {
        switch stage.base {
        case let .image(word):
            return (try resolver.image(word), (try? Reference(parsing: word.value))?.familiar ?? word.value)
        case .scratch:
            return (Self.scratch, "scratch")
        case let .stage(index):
            guard let (image, name) = built[index] else { throw KitError.stageNotBuilt(location: nil, stage: index) }
            return (image, "stage \(name)")
        }
    }

    mutating func planned(_ step: DockerfileStep, in stage: PlannedStage) throws -> PlannedStep {
        let location = "\(source.displayPath):\(step.location.line)"
        guard case let .copy(copy) = step.step, let copySource = step.copy else {
            return PlannedStep(step: step.step, definition: step.definition,
                               cacheMounts: try StepMounts.directories(for: step.step, stateDirectory: stateDirectory, projectRoot: source.context),
                               location: location)
        }
        let keyword = copy.unpacksArchives ? "ADD" : "COPY"
        var items: [CopyItem]
        switch copySource.origin {
        case .context:
            items = try context.items(copySource, unpack: copy.unpacksArchives, location: location, keyword: keyword)
        case let .stage(index):
            guard let (image, name) = built[index] else { throw KitError.stageNotBuilt(location: location, stage: index) }
            items = try stageFiles(image, label: name, copySource).items(copySource, location: location, keyword: keyword)
        case let .image(word):
            let image = try resolver.image(word)
            items = try stageFiles(image, label: word.value, copySource).items(copySource, location: location, keyword: keyword)
        }
        items += try DockerfileContext.inlineItems(copySource.inline, directory: "\(stateDirectory)/inline")
        items += try DockerfileRemoteFiles.items(copySource.remote, directory: "\(stateDirectory)/remote", location: location,
                                                 registry: engine.registry)
        items += try DockerfileGitSources.items(copySource.git, directory: "\(stateDirectory)/git", location: location, statCache: statCache)
        if items.isEmpty {
            throw KitError.noSourceMatched(location: location, instruction: keyword, patterns: copy.sources)
        }
        if items.count > 1 && !copy.destination.hasSuffix("/") {
            throw KitError.destinationNotDirectory(location: location, instruction: keyword, sources: items.count)
        }
        return PlannedStep(step: step.step, definition: step.definition, inputs: items.flatMap { $0.entries.map(\.input) }, location: location,
                           copyItems: items)
    }

    private mutating func stageFiles(_ image: StoredImage, label: String, _ source: CopySource) throws -> DockerfileStageFiles {
        let (lowerDirs, lease) = try engine.store.mount(image)
        leases.append(lease)
        var files = DockerfileStageFiles(view: LayerView(lowerDirs: lowerDirs, ownership: engine.ownership), label: label, statCache: statCache)
        let host = HostIdentity.current()
        if engine.ownership != nil, let mapping = host.idMapping,
           let uid = mapping.containerUID(forHost: host.uid), let gid = mapping.containerGID(forHost: host.gid) {
            let directory = try mirrors.next()
            let request = StageMirror.Request(lowerDirs: lowerDirs, patterns: source.patterns.map(\.value), directory: directory,
                                              user: RecordedOwner(uid: uid, gid: gid))
            files.mirror = (directory, try NamespaceHelper.mirror(request, mapping: mapping))
        }
        return files
    }

    /// `FROM scratch`: an image with no layers and an empty configuration.
    static let scratch: StoredImage = {
        let config = ImageConfig(platform: .host, config: ImageConfig.RunConfig(), diffIDs: [], history: [])
        let configData = OCIDocument.encode(config)
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(configData), size: Int64(configData.count)), layers: [])
        let manifestData = OCIDocument.encode(manifest)
        let descriptor = Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(manifestData), size: Int64(manifestData.count))
        return StoredImage(name: "scratch", manifestDescriptor: descriptor, manifest: manifest, config: config)
    }()
}

extension StepOutcome {
    /// The outcome numbered within a larger build (stages, or a base under the project's steps).
    func shifted(by offset: Int, prefix: String = "") -> StepOutcome {
        var outcome = self
        outcome.number += offset
        outcome.summary = prefix + summary
        if case let .earlierStepRebuilt(number)? = missReason { outcome.missReason = .earlierStepRebuilt(number + offset) }
        return outcome
    }
}
