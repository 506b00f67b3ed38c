import DevenvManifest
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation

/// Resolves a project's `[base] distro` through its lock file: a current lock's base is
/// reused while it is in the store; otherwise the base for the manifest's inputs is taken
/// from the store by its key or bootstrapped, and the lock records what it resolved.
struct DistroBaseResolver {
    let engine: Engine
    let project: Project
    let distro: Manifest.Distro
    let bootstrapper: DistroBootstrapper

    var base: DistroBase { DistroBase(distro, hostMirror: HostMirror.detect(for: distro.family)) }

    /// `recordLock: false` is a dry run (`devenv status`): it neither writes the lock nor
    /// bootstraps a base the store lacks.
    func resolve(frozen: Bool, rebuild: Bool, recordLock: Bool = true) throws -> (StoredImage, String) {
        let lock = try Lockfile.load(path: project.lockPath)
        let lockedDistro = lock?.distro
        let current = lockedDistro?.matches(distro) ?? false
        if frozen && !current {
            throw LockError(message: "\(project.displayPath): --frozen: " + staleness(lock) + "\nhint: run `devenv lock` and commit .devenv/devenv.lock")
        }
        if let lock, current, !rebuild, let image = try? engine.image(digest: lock.baseDigest, name: try Reference(parsing: DistroBase.tag(name: lock.base, key: lock.distro!.key))) {
            return (image, distro.name.value)
        }
        let base = self.base
        guard recordLock || (try? engine.store.image(base.tag)) != nil else {
            throw DistroError(base: base, reason: "not bootstrapped yet", hint: "`devenv build` bootstraps it")
        }
        let image = try bootstrapper.image(for: base, rebuild: rebuild)
        if frozen, let lock, image.manifestDescriptor.digest != lock.baseDigest {
            throw LockError(message: """
                \(project.displayPath): --frozen: the locked base \(lock.baseDigest.short) is not in the store, and bootstrapping \(base.name) \
                again gave \(image.manifestDescriptor.digest.short): the archive changed since the lock was written
                hint: pin the archive with [base] snapshot = "YYYYMMDDTHHMMSSZ" so the base rebuilds identically, or run `devenv lock`
                """)
        }
        if recordLock { try write(Lockfile(base: base.name, baseDigest: image.manifestDescriptor.digest, distro: DistroLock(base))) }
        return (image, distro.name.value)
    }

    /// `devenv lock`: the base for the manifest's inputs as the store has it (bootstrapped if
    /// it has none), recorded.
    func lock() throws -> Lockfile {
        let base = self.base
        let image = try bootstrapper.image(for: base)
        let lock = Lockfile(base: base.name, baseDigest: image.manifestDescriptor.digest, distro: DistroLock(base))
        try write(lock)
        return lock
    }

    private func staleness(_ lock: Lockfile?) -> String {
        guard let lock else { return "there is no .devenv/devenv.lock" }
        guard let locked = lock.distro else {
            return ".devenv/devenv.lock is stale (it locks base image '\(Printable.escape(lock.base))', the manifest says distro '\(Printable.escape(distro.name.value))')"
        }
        return ".devenv/devenv.lock is stale (\(locked.difference(from: distro)))"
    }

    private func write(_ lock: Lockfile) throws {
        if let existing = try? Lockfile.load(path: project.lockPath), existing == lock { return }
        try AtomicFile.write(Data(lock.render().utf8), to: project.lockPath)
    }
}

extension ProjectBuild {
    /// Whether the lock file still describes the manifest's base.
    func lockIsCurrent(_ lock: Lockfile) -> Bool {
        if let distro = project.manifest.base.distro { return lock.distro?.matches(distro) ?? false }
        return lock.distro == nil && lock.base == baseText.value
    }
}
