import DevenvBuild
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation

/// A base image to build on, and how the lock records it.
public struct ResolvedBase: Sendable {
    public var image: StoredImage
    /// How messages and the build record name it.
    public var name: String
    public var lock: Lockfile.Base
    /// For a Dockerfile base: the images its FROM and `COPY --from` lines resolved to.
    public var images: [String: Digest] = [:]
}

/// What `devenv lock` found: the lock before (nil if there was none), the one resolved now,
/// and how they differ.
public struct LockUpdate: Sendable {
    public var old: Lockfile?
    public var new: Lockfile
    public var changes: [LockChange]
    public var isCurrent: Bool { old != nil && changes.isEmpty }

    /// `devenv lock --check`: why the lock is not current, or nil when it is.
    public func checkFailure(project: String) -> LockError? {
        guard !isCurrent else { return nil }
        guard old != nil else { return LockError(message: "\(project): there is no .devenv/devenv.lock\nhint: run `devenv lock`") }
        return LockError(message: "\(project): .devenv/devenv.lock is not current:\n" + changes.map { "  \($0)" }.joined(separator: "\n") + "\n\(LockError.hint)")
    }
}

extension ProjectBuild {
    /// The base image to build on. With a current lock the locked digest wins over wherever
    /// the tag points now; without one the tag is resolved (and the caller records it).
    func resolveBase(frozen: Bool, rebuild: Bool = false, recordLock: Bool = true) throws -> ResolvedBase {
        if let resolver = distroResolver() { return try resolver.resolve(frozen: frozen, rebuild: rebuild, recordLock: recordLock) }
        let reference = try baseReference()
        let lock = try Lockfile.load(path: project.lockPath)
        let current = lock.map(lockIsCurrent) ?? false
        if frozen && !current {
            throw LockError(message: lock == nil
                ? "\(project.displayPath): --frozen: there is no .devenv/devenv.lock\n\(LockError.hint)"
                : "\(project.displayPath): --frozen: .devenv/devenv.lock is stale (it locks base '\(Printable.escape(lock!.base))', the manifest says '\(Printable.escape(baseText.value))')\n\(LockError.hint)")
        }
        if let lock, current {
            return ResolvedBase(image: try engine.image(digest: lock.baseDigest, name: reference), name: reference.familiar, lock: lock.baseLock)
        }
        let image = try engine.resolve(reference)
        return ResolvedBase(image: image, name: reference.familiar, lock: .image(baseText.value, digest: image.manifestDescriptor.digest))
    }

    /// Compares the lock with what the project resolves to: `--frozen` fails naming every
    /// difference; otherwise the lock is brought up to date (`record`). Returns the
    /// differences (what a dry run would change).
    @discardableResult
    func settleLock(_ base: ResolvedBase, steps: [PlannedStep], frozen: Bool, record: Bool) throws -> [LockChange] {
        let existing = try Lockfile.load(path: project.lockPath)
        let wanted = Lockfile(base: base.lock, images: base.images, steps: lockedSteps(steps, carrying: existing?.steps))
        guard let existing else {
            if frozen { throw LockError(message: "\(project.displayPath): --frozen: there is no .devenv/devenv.lock\n\(LockError.hint)") }
            if record { try writeLock(wanted) }
            return []
        }
        var compared = wanted
        // A version 1 lock recorded only the base: that is all it can hold a build to.
        if existing.steps == nil && frozen { compared.steps = nil }
        let changes = LockComparison.changes(from: existing, to: compared, locations: steps.map(\.location))
        if frozen && !changes.isEmpty { throw LockError.stale(project.displayPath, changes) }
        if record && existing != wanted { try writeLock(wanted) }
        return changes
    }

    /// The lock's record of planned steps. A step whose definition did not change keeps the
    /// packages the lock resolved for it.
    func lockedSteps(_ steps: [PlannedStep], carrying previous: [LockedStep]?) -> [LockedStep] {
        let unpinned = BuildPlanner.unpinnedSteps(project.manifest)
        return steps.enumerated().map { index, planned in
            let digest = Digest.sha256(OCIDocument.encode(index < unpinned.count ? unpinned[index] : planned.step))
            let files = planned.inputs.compactMap { input in
                input.digest.map { LockedFile(path: input.path, digest: $0, mode: input.mode) }
            }
            let kept = previous.flatMap { index < $0.count && $0[index].digest == digest ? $0[index].packages : nil } ?? []
            return LockedStep(definition: planned.summary, digest: digest, files: files, packages: kept)
        }
    }

    /// `devenv lock`: every input resolved again from its source (the registry for a tag,
    /// the archive for a distro base, the project's files), compared with the lock on disk,
    /// and written unless `write` is false (`--check`, `--diff`). With an `executor`, a
    /// written lock's `packages` steps are resolved again too: they run unpinned against the
    /// archive as it is now (a build: the project's image is the result), and the lock
    /// records what they installed. Without one, or without `write`, they keep the lock's
    /// versions while their definitions are unchanged.
    public func relock(write: Bool, executor: (any StepExecutor)? = nil, onWait: (() -> Void)? = nil,
                       events: (BuildEvent) -> Void = { _ in }) throws -> LockUpdate {
        let existing = try Lockfile.load(path: project.lockPath)
        let base: ResolvedBase
        if let dockerfile = project.manifest.base.dockerfile {
            let build = dockerfileBuild(dockerfile, images: .fresh)
            let (plan, resolver) = try build.plan()
            try resolver.resolveAll(plan)
            base = ResolvedBase(image: StepPlanner.scratch, name: dockerfile.path.value,
                                lock: .dockerfile(dockerfile.path.value, digest: try build.dockerfileDigest()), images: resolver.resolved)
        } else if let resolver = distroResolver() {
            base = try resolver.lock()
        } else {
            let image = try engine.refresh(try baseReference())
            base = ResolvedBase(image: image, name: baseText.value, lock: .image(baseText.value, digest: image.manifestDescriptor.digest))
        }
        try state.claim(root: project.root)
        if write, let executor, let first = packageStepIndices.first {
            return try resolvePackages(base, from: first, existing: existing, executor: executor, onWait: onWait, events: events)
        }
        let steps = try BuildPlanner(project: project, stateDirectory: stateDirectory, pins: packagePins(existing)).plan()
        let new = Lockfile(base: base.lock, images: base.images, steps: lockedSteps(steps, carrying: existing?.steps))
        let changes = existing.map { LockComparison.changes(from: $0, to: new, locations: steps.map(\.location)) } ?? []
        if write && existing != new { try writeLock(new) }
        return LockUpdate(old: existing, new: new, changes: changes)
    }

    // MARK: Packages

    var packageStepIndices: [Int] {
        project.manifest.steps.indices.filter { index in
            if case .packages = project.manifest.steps[index].action { return true }
            return false
        }
    }

    /// `devenv lock` for a project with `packages` steps: the steps planned without the
    /// lock's pins and run again from the first `packages` step on (a cached result holds
    /// the archive as it was), then what each installed is recorded, compared and aliased
    /// so the next (pinned) build runs nothing. A Dockerfile base is built first, its
    /// images asked for again.
    private func resolvePackages(_ base: ResolvedBase, from first: Int, existing: Lockfile?, executor: any StepExecutor,
                                 onWait: (() -> Void)?, events: (BuildEvent) -> Void) throws -> LockUpdate {
        let steps = try BuildPlanner(project: project, stateDirectory: stateDirectory, pins: [:]).plan()
        func rerunning(_ resolved: ResolvedBase) -> BuildRequest {
            var request = self.request(base: resolved, steps: steps, noCache: false)
            request.rerunFrom = first
            request.labels[Self.cacheKeyLabel] = Builder.environmentKey(request).description
            return request
        }
        var built = rerunning(base)
        var resolved = base
        let image: StoredImage
        if let dockerfile = project.manifest.base.dockerfile {
            image = try DockerfileProjectBuild.stacked(dockerfileBuild(dockerfile, images: .fresh), engine: engine, noCache: false, executor: executor,
                                                       onWait: onWait, events: events, warn: { _ in }, topSteps: steps.count) { target, images in
                resolved = ResolvedBase(image: target, name: base.name, lock: base.lock, images: images)
                built = rerunning(resolved)
                return built
            }.image
        } else {
            image = try engine.builder(executor: executor).build(built, onWait: onWait, events: events).image
        }
        var new = Lockfile(base: resolved.lock, images: resolved.images, steps: lockedSteps(steps, carrying: nil))
        for (index, packages) in try PackageResolution(store: engine.store, request: built).resolve(packageStepIndices, image: image) {
            new.steps![index] = LockedStep(definition: new.steps![index].definition, digest: new.steps![index].digest,
                                           files: new.steps![index].files, packages: packages)
        }
        let changes = existing.map { LockComparison.changes(from: $0, to: new, locations: steps.map(\.location)) } ?? []
        try writeLock(new)
        try aliasPinnedSteps(built, lock: new)
        return LockUpdate(old: existing, new: new, changes: changes)
    }

    /// The versions the lock resolved each unchanged `packages` step to, which its install pins.
    func packagePins(_ lock: Lockfile?) -> [Int: PackageInstaller.Pins] {
        guard let lock, let locked = lock.steps else { return [:] }
        let unpinned = BuildPlanner.unpinnedSteps(project.manifest)
        var pins: [Int: PackageInstaller.Pins] = [:]
        for (index, step) in project.manifest.steps.enumerated() {
            guard case .packages = step.action, index < locked.count, index < unpinned.count, !locked[index].packages.isEmpty,
                  locked[index].digest == Digest.sha256(OCIDocument.encode(unpinned[index])) else { continue }
            pins[index] = PackageInstaller.Pins(packages: locked[index].packages, source: Self.source(of: lock))
        }
        return pins
    }

    /// Where the lock's package versions came from, for the error when the archive dropped one.
    static func source(of lock: Lockfile) -> String {
        switch lock.baseLock {
        case let .distro(distro, digest):
            return "\(distro.distro) " + (distro.snapshot.map { "snapshot \($0)" } ?? "from \(distro.mirror)")
                + " (" + (distro.archive.map { "\($0.releaseDescription), " } ?? "") + "base \(digest.short))"
        case let .image(text, digest):
            return "the archive as base image \(text) (\(digest.short)) saw it"
        case let .dockerfile(path, _):
            return "the archive as the image built from \(path) saw it"
        }
    }

    /// After a build: records what each `packages` step the lock has no versions for
    /// installed, so the next build installs exactly that.
    func recordPackages(_ request: BuildRequest, image: StoredImage) throws {
        guard var lock = try Lockfile.load(path: project.lockPath), var steps = lock.steps else { return }
        let indices = project.manifest.steps.indices.filter { index in
            guard case .packages = project.manifest.steps[index].action else { return false }
            return index < steps.count && steps[index].packages.isEmpty
        }
        guard !indices.isEmpty else { return }
        let resolved = try PackageResolution(store: engine.store, request: request).resolve(indices, image: image)
        for (index, packages) in resolved { steps[index].packages = packages.sorted { $0.name < $1.name } }
        lock.steps = steps
        try writeLock(lock)
        try aliasPinnedSteps(request, lock: lock)
    }

    /// The build just made installed exactly the versions now locked, so the pinned steps'
    /// results are already known: their cache keys (and every later step's, which chain on
    /// them) name the same entries, and the next build, pinned, runs nothing again.
    private func aliasPinnedSteps(_ request: BuildRequest, lock: Lockfile) throws {
        var pinned = request
        pinned.steps = try BuildPlanner(project: project, stateDirectory: stateDirectory, pins: packagePins(lock)).plan()
        let cache = BuildCache(layout: engine.store.layout)
        let (built, now) = (Builder.cacheKeys(request), Builder.cacheKeys(pinned))
        guard let first = built.indices.first(where: { built[$0] != now[$0] }) else { return }
        for index in first..<now.count {
            guard let entry = cache.lookup(built[index]) else { return }
            let parent = index == 0 ? CacheKey.base(manifest: request.base.manifestDescriptor.digest) : now[index - 1]
            try cache.record(CacheEntry(key: now[index], parent: parent, step: pinned.steps[index].step, inputs: pinned.steps[index].inputs,
                                        layer: entry.layer, diffID: entry.diffID, config: entry.config, created: entry.created,
                                        layers: entry.layers))
        }
    }

    func writeLock(_ lock: Lockfile) throws {
        if let existing = try? Lockfile.load(path: project.lockPath), existing == lock { return }
        try AtomicFile.write(Data(lock.render().utf8), to: project.lockPath)
    }
}

extension LockError {
    static let hint = "hint: run `devenv lock` and commit .devenv/devenv.lock"

    /// `--frozen` with a lock that differs from the project, naming every difference.
    static func stale(_ project: String, _ changes: [LockChange]) -> LockError {
        LockError(message: "\(project): --frozen: .devenv/devenv.lock is stale:\n" + changes.map { "  \($0)" }.joined(separator: "\n") + "\n\(hint)")
    }
}
