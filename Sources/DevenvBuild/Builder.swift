import DevenvArchive
import DevenvOCI
import DevenvPlan
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds an environment image step by step, reusing cached layers. A step's result is
/// recorded in the cache only after its layer is safely in the store, so an interrupted
/// build resumes from the last completed step and never sees a half-made layer.
public struct Builder {
    public let store: ImageStore
    public let cache: BuildCache
    public let executor: any StepExecutor
    /// Mtime written into layers devenv creates, so equal trees give equal digests.
    public var layerMTime: Int64 = 0
    public var compression: LayerCompression = .zstd
    /// How the store's snapshots' owners read as the image's (rootless: `ImageOwnership`,
    /// as seen from this process); nil as root.
    public var ownership: ImageOwnership?

    public init(store: ImageStore, executor: any StepExecutor) {
        self.store = store
        self.cache = BuildCache(layout: store.layout)
        self.executor = executor
    }

    /// Mutable state threaded through the steps.
    struct Progress {
        var key: Digest
        var layers: [Descriptor]
        var diffIDs: [Digest]
        var run: ImageConfig.RunConfig
        var history: [ImageConfig.History]
        /// When the steps' layers say they were made: the base's own time, not the clock, so
        /// the same inputs give the same image in any store (the base is pinned by digest).
        var created: String
    }

    /// A base without a time (`FROM scratch`) makes layers dated at the epoch.
    static let epoch = "1970-01-01T00:00:00Z"

    /// Every step's cache key, in order, without running anything: the last one names the
    /// finished environment (a prebuilt image in a registry is tagged with it).
    public static func cacheKeys(_ request: BuildRequest) -> [Digest] {
        var key = CacheKey.base(manifest: request.base.manifestDescriptor.digest)
        return request.steps.map { planned in
            key = CacheKey.step(parent: key, step: planned.step, inputs: planned.inputs)
            return key
        }
    }

    /// The key of the whole environment: the last step's, or the base's when there are none.
    public static func environmentKey(_ request: BuildRequest) -> Digest {
        cacheKeys(request).last ?? CacheKey.base(manifest: request.base.manifestDescriptor.digest)
    }

    /// Whether every step would be a cache hit right now.
    public func isFullyCached(_ request: BuildRequest) -> Bool {
        !request.noCache && request.rerunFrom == nil && Self.cacheKeys(request).allSatisfy { cache.lookup($0) != nil }
    }

    public func build(_ request: BuildRequest, onWait: (() -> Void)? = nil, events: (BuildEvent) -> Void = { _ in }) throws -> BuildResult {
        let lock = try FileLock(path: "\(request.stateDirectory)/build.lock", onWait: onWait)
        defer { lock.unlock() }
        return try store.withWriteAccess {
            let scratch = "\(request.stateDirectory)/work"
            try DirectoryRemover.remove(scratch)
            guard mkdir(scratch, 0o700) == 0 else { throw SystemError.last("mkdir", path: scratch) }
            defer { try? DirectoryRemover.remove(scratch) }
            return try run(request, scratch: scratch, events: events)
        }
    }

    private func run(_ request: BuildRequest, scratch: String, events: (BuildEvent) -> Void) throws -> BuildResult {
        let recordPath = "\(request.stateDirectory)/record.json"
        let previousRecord = (try? FileDescriptor.readRegularFile(recordPath, limit: BuildRecord.maxSize, flags: O_NOFOLLOW)).map { Data($0) }
        let previous = previousRecord.flatMap { try? JSONDecoder().decode(BuildRecord.self, from: $0) }
        let base = request.base
        var state = Progress(key: CacheKey.base(manifest: base.manifestDescriptor.digest), layers: base.manifest.layers,
                             diffIDs: base.config.rootfs.diffIDs, run: base.config.config ?? ImageConfig.RunConfig(),
                             history: base.config.history ?? [], created: base.config.created ?? Self.epoch)
        var outcomes: [StepOutcome] = []
        var recordSteps: [BuildRecord.Step] = []
        var rebuiltBefore: Int?
        for (index, planned) in request.steps.enumerated() {
            let number = index + 1
            let started = Date()
            events(.stepStarted(number: number, total: request.steps.count, summary: planned.summary))
            let parent = state.key
            state.key = CacheKey.step(parent: parent, step: planned.step, inputs: planned.inputs)
            let current = BuildRecord.Step(key: state.key, parent: parent, step: planned.step, definition: planned.definition,
                                           inputs: planned.inputs, location: planned.location)
            recordSteps.append(current)
            var reason: MissReason?
            let entry: CacheEntry
            let rerun = request.rerunFrom.map { index >= $0 } ?? false
            if !request.noCache, !rerun, let hit = cache.lookup(state.key) {
                entry = hit
                cache.touch(state.key)
            } else {
                reason = index == request.rerunFrom && !request.noCache ? .resolvingAgain
                    : Explainer.reason(index: index, current: current, base: (request.baseName, base.manifestDescriptor.digest),
                                       previous: previous, rebuiltBefore: rebuiltBefore, noCache: request.noCache)
                entry = try execute(planned, number: number, parent: parent, state: state, scratch: scratch)
                try cache.record(entry)
                rebuiltBefore = number
            }
            apply(entry, definition: planned.definition, to: &state)
            let outcome = StepOutcome(number: number, summary: planned.summary, location: planned.location, key: state.key,
                                      missReason: reason, seconds: Date().timeIntervalSince(started),
                                      reproducible: StepOutcome.isReproducible(planned.step))
            outcomes.append(outcome)
            events(.stepFinished(outcome))
        }
        // An unchanged record is not rewritten: a no-op build (every warm `devenv run`) then
        // writes nothing, instead of paying two fsyncs.
        let record = OCIDocument.encode(BuildRecord(base: request.baseName, baseDigest: base.manifestDescriptor.digest, steps: recordSteps))
        if record != previousRecord { try AtomicFile.write(record, to: recordPath, mode: 0o600) }
        let image = try commit(request, state: state)
        return BuildResult(image: image, steps: outcomes)
    }

    private func apply(_ entry: CacheEntry, definition: String, to state: inout Progress) {
        let layers = entry.producedLayers
        for layer in layers {
            state.layers.append(layer.descriptor)
            state.diffIDs.append(layer.diffID)
            state.history.append(ImageConfig.History(created: entry.created, createdBy: "devenv: \(definition)", comment: layer.comment))
        }
        state.run = entry.config
        if layers.isEmpty {
            state.history.append(ImageConfig.History(created: entry.created, createdBy: "devenv: \(definition)", emptyLayer: true))
        }
    }

    // MARK: Executing a step

    private func execute(_ planned: PlannedStep, number: Int, parent: Digest, state: Progress, scratch: String) throws -> CacheEntry {
        var layer: (descriptor: Descriptor, diffID: Digest)?
        var split: [StepLayer]?
        var run = state.run
        switch planned.step {
        case let .run(step):
            let layers = try runStep(planned, step, number: number, state: state, scratch: scratch)
            if layers.count == 1 { layer = (layers[0].descriptor, layers[0].diffID) } else { split = layers }
        case let .copy(copy):
            layer = try copyFiles(planned, copy: copy, number: number, state: state, scratch: scratch)
        case let .workdir(workdir):
            run.workingDir = ConfigEditor.resolve(workdir.path, from: run.workingDir)
            if workdir.createsDirectory {
                layer = try makeWorkdir(planned, path: run.workingDir ?? "/", number: number, state: state, scratch: scratch)
            }
        case let .config(changes):
            for change in changes { change.apply(to: &run) }
        }
        return CacheEntry(key: state.key, parent: parent, step: planned.step, inputs: planned.inputs, layer: layer?.descriptor,
                          diffID: layer?.diffID, config: run, created: state.created, layers: split)
    }

    /// The step's layer, or a `packages` step's layers (`PackageLayers`).
    func runStep(_ planned: PlannedStep, _ step: RunStep, number: Int, state: Progress, scratch: String) throws -> [StepLayer] {
        var lowerDirs = try snapshots(layers: state.layers, diffIDs: state.diffIDs)
        if lowerDirs.isEmpty { lowerDirs = [try emptyLowerDirectory(scratch: scratch, number: number)] }
        let upper = "\(scratch)/run-\(number)/upper"
        let work = "\(scratch)/run-\(number)/work"
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var environment = state.run.env ?? []
        for argument in step.arguments where !environment.contains(where: { $0.hasPrefix(argument.name + "=") }) {
            environment.append("\(argument.name)=\(argument.value)")
        }
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
            environment.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        let execution = StepExecution(
            command: step.command, environment: environment, workingDirectory: state.run.workingDir ?? "/",
            user: state.run.user, lowerDirs: lowerDirs, upperDir: upper, workDir: work,
            cacheMounts: planned.cacheMounts, network: step.network, secrets: step.secrets ?? [])
        let status: Int32
        do {
            status = try executor.execute(execution)
        } catch let interruption as StepInterrupted {
            throw BuildError.interrupted(number: number, location: planned.location, summary: planned.summary, signal: interruption.signal)
        }
        guard status == 0 else {
            throw BuildError.stepFailed(number: number, location: planned.location, summary: planned.summary, status: status)
        }
        let commit = UpperCommit(upperDir: upper, lowerDirs: lowerDirs, runtimeFiles: try executor.runtimeFiles(for: execution))
        if let limit = step.packageLayers?.limit, limit > 1 {
            let parts = "\(scratch)/run-\(number)/layers"
            guard mkdir(parts, 0o700) == 0 else { throw SystemError.last("mkdir", path: parts) }
            let split: [UpperSplit.Part]?
            do {
                split = try executor.split(UpperSplit(commit: commit, partsDirectory: parts, limit: limit))
            } catch {
                throw BuildError.layerFailed(number: number, location: planned.location, reason: "split the packages into layers: \(error)")
            }
            if let split { return try commitParts(split, lowerDirs: lowerDirs, number: number, location: planned.location, diffIDs: state.diffIDs) }
        }
        let layer = try commitLayer(number: number, location: planned.location) { output, options in
            try executor.commit(commit, to: output, options: options)
        }
        // The upper directory already is the new layer in snapshot form; keep it instead of
        // unpacking the layer we just wrote.
        try store.snapshots.adopt(directory: upper, diffIDs: state.diffIDs + [layer.1])
        return [StepLayer(descriptor: layer.0, diffID: layer.1)]
    }

    /// Commits each layer directory of a split upper directory and keeps it as the
    /// layer's snapshot, as a single step's upper directory is kept.
    private func commitParts(_ parts: [UpperSplit.Part], lowerDirs: [String], number: Int, location: String, diffIDs: [Digest]) throws -> [StepLayer] {
        var chain = diffIDs
        var layers: [StepLayer] = []
        for part in parts {
            // The runtime's stubs were removed before the split.
            let commit = UpperCommit(upperDir: part.directory, lowerDirs: lowerDirs, runtimeFiles: RuntimeFiles())
            let layer = try commitLayer(number: number, location: location) { output, options in
                try executor.commit(commit, to: output, options: options)
            }
            chain.append(layer.1)
            try store.snapshots.adopt(directory: part.directory, diffIDs: chain)
            layers.append(StepLayer(descriptor: layer.0, diffID: layer.1, comment: part.comment))
        }
        return layers
    }

    /// Commits a directory the builder staged itself (copies, workdirs): plain files, no
    /// overlay whiteouts, with the staged `owners` where it could not chown.
    func commitLayer(from directory: String, owners: [[UInt8]: RecordedOwner], mtimes: [[UInt8]: Int64] = [:],
                     number: Int, location: String) throws -> (Descriptor, Digest) {
        try commitLayer(number: number, location: location) { output, options in
            var options = options
            options.translateOverlayWhiteouts = false
            options.owners = owners
            options.mtimes = mtimes
            options.ownership = ownership
            return try LayerWriter.write(directory: directory, to: output, options: options)
        }
    }

    /// Stores the layer `write` makes (into the given file, with the build's options).
    func commitLayer(number: Int, location: String, _ write: (String, LayerWriteOptions) throws -> LayerBlob) throws -> (Descriptor, Digest) {
        let output = "\(store.layout.ingest)/\(UUID().uuidString).layer"
        defer { unlink(output) }
        do {
            var options = LayerWriteOptions()
            options.compression = compression
            options.clampMTime = layerMTime
            let blob = try write(output, options)
            try store.content.adoptVerified(file: output, digest: blob.digest)
            return (Descriptor(mediaType: blob.mediaType, digest: blob.digest, size: blob.size), blob.diffID)
        } catch {
            throw BuildError.layerFailed(number: number, location: location, reason: "\(error)")
        }
    }

    /// Lower dirs (topmost first) for the layers built so far, unpacking any snapshot that
    /// is missing (a layer cached by a build whose snapshot gc has since removed).
    func snapshots(layers: [Descriptor], diffIDs: [Digest]) throws -> [String] {
        guard !layers.isEmpty else { return [] }
        let config = ImageConfig(diffIDs: diffIDs)
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.imageConfig, digest: diffIDs[0], size: 0), layers: layers)
        return try store.snapshots.prepare(manifest: manifest, config: config)
    }

    // MARK: The result

    private func commit(_ request: BuildRequest, state: Progress) throws -> StoredImage {
        // Per-package layers add up; say which setting helps rather than the manifest's rule.
        guard state.layers.count <= ImageManifest.maxLayers else {
            throw BuildError.tooManyLayers(count: state.layers.count, limit: ImageManifest.maxLayers)
        }
        var run = state.run
        var labels = run.labels ?? [:]
        labels.merge(request.labels) { _, new in new }
        run.labels = labels
        // The newest step's time, not the clock: an unchanged build yields the same image
        // digest, so a no-op build rewrites nothing.
        let created = state.history.last?.created ?? request.base.config.created
        var config = ImageConfig(platform: request.base.config.platform, config: run, diffIDs: state.diffIDs, history: state.history, created: created)
        config.author = "devenv"
        return try store.commitImage(name: request.tag, config: config, layers: state.layers)
    }
}
