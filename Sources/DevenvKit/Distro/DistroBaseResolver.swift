import DevenvManifest
import DevenvOCI
import DevenvRegistry
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Resolves a project's `[base] distro` through its lock file: a current lock's base is
/// reused while it is in the store; otherwise the base for the manifest's inputs is taken
/// from the store by its key or bootstrapped; the caller records what it resolved.
struct DistroBaseResolver {
    let engine: Engine
    let project: Project
    let distro: Manifest.Distro
    var bootstrapper: DistroBootstrapper

    var base: DistroBase { DistroBase(distro, hostMirror: HostMirror.detect(for: distro.family)) }

    /// `recordLock: false` is a dry run (`devenv status`): it does not bootstrap a base the
    /// store lacks.
    func resolve(frozen: Bool, rebuild: Bool, recordLock: Bool = true) throws -> ResolvedBase {
        let lock = try Lockfile.load(path: project.lockPath)
        let lockedDistro = lock?.distro
        let current = lockedDistro?.matches(distro) ?? false
        if frozen && !current {
            throw LockError(message: "\(project.displayPath): --frozen: " + staleness(lock) + "\nhint: run `devenv lock` and commit .devenv/devenv.lock")
        }
        if let lock, current, !rebuild, let image = try? engine.image(digest: lock.baseDigest, name: try Reference(parsing: DistroBase.tag(name: lock.base, key: lock.distro!.key))) {
            return ResolvedBase(image: image, name: distro.name.value, lock: lock.baseLock)
        }
        let base = self.base
        guard recordLock || (try? engine.store.image(base.tag)) != nil else {
            throw DistroError(base: base, reason: "not bootstrapped yet", hint: "`devenv build` bootstraps it")
        }
        // A current lock's versions are bootstrapped exactly, unless `--no-cache` asks for
        // the archive's updates (`--frozen --no-cache`, as `verify` builds, still pins).
        var bootstrapper = self.bootstrapper
        if current, let lock, let archive = lock.distro?.archive, frozen || !rebuild {
            bootstrapper.pins = PackageInstaller.Pins(packages: archive.packages, source: ProjectBuild.source(of: lock))
        }
        let image = try bootstrapper.image(for: base, rebuild: rebuild)
        let resolved = DistroLock(base, image: image)
        if frozen, let lock, image.manifestDescriptor.digest != lock.baseDigest {
            throw LockError(message: "\(project.displayPath): --frozen: the locked base \(lock.baseDigest.short) is not in the store, and bootstrapping \(base.name) "
                + "again gave \(image.manifestDescriptor.digest.short): the archive changed since the lock was written\n"
                + Self.moved(from: lock.distro?.archive, to: resolved.archive, base: base).map { "  \($0)\n" }.joined()
                + "hint: pin the archive with [base] snapshot = \"YYYYMMDDTHHMMSSZ\" so the base rebuilds identically, or run `devenv lock`")
        }
        return ResolvedBase(image: image, name: distro.name.value, lock: .distro(resolved, digest: image.manifestDescriptor.digest))
    }

    /// What moved in the archive between the locked bootstrap and this one, one line each.
    static func moved(from locked: ArchiveSnapshot?, to now: ArchiveSnapshot?, base: DistroBase) -> [String] {
        let subject = "base \(Printable.escape(base.name))"
        guard let locked else { return ["\(subject): the lock records no package versions (written by an older devenv; `devenv lock` records them)"] }
        guard let now else { return [] }
        return locked.changes(to: now).map { "\(subject): \($0)" }
    }

    /// `devenv lock`: the base for the manifest's inputs, from the archive as it is now: the
    /// store's while the archive's `InRelease` is still the one it was bootstrapped from,
    /// else bootstrapped again (an archive that cannot be asked keeps the store's, with a note).
    func lock() throws -> ResolvedBase {
        let base = self.base
        var image = try bootstrapper.image(for: base)
        if let recorded = DistroLock(base, image: image).archive?.inRelease {
            do {
                if try currentRelease(of: base) != recorded { image = try bootstrapper.image(for: base, rebuild: true) }
            } catch let error as RegistryError {
                engine.notes("kept the stored base \(Printable.escape(base.name)): could not ask \(Printable.escape(base.mirror)) for its InRelease (\(error))")
            }
        }
        return ResolvedBase(image: image, name: distro.name.value, lock: .distro(DistroLock(base, image: image), digest: image.manifestDescriptor.digest))
    }

    /// The SHA-256 of the suite's `InRelease` the mirror serves now.
    private func currentRelease(of base: DistroBase) throws -> Digest {
        guard let url = URL(string: "\(base.mirror)/dists/\(base.suite)/InRelease") else {
            throw DistroError(base: base, reason: "'\(Printable.escape(base.mirror))' is not a URL", hint: nil)
        }
        if url.isFileURL {
            return Digest.sha256(Data(try FileDescriptor.readRegularFile(url.path, limit: ArchiveSnapshot.releaseLimit, operation: "read the archive's InRelease")))
        }
        let path = "\(engine.store.layout.tmp)/in-release-\(UUID().uuidString)"
        defer { unlink(path) }
        return try engine.registry().download(url, to: path, expected: nil, limit: Int64(ArchiveSnapshot.releaseLimit)).digest
    }

    private func staleness(_ lock: Lockfile?) -> String {
        guard let lock else { return "there is no .devenv/devenv.lock" }
        guard let locked = lock.distro else {
            return ".devenv/devenv.lock is stale (it locks base image '\(Printable.escape(lock.base))', the manifest says distro '\(Printable.escape(distro.name.value))')"
        }
        return ".devenv/devenv.lock is stale (\(locked.difference(from: distro)))"
    }
}

extension ProjectBuild {
    /// Whether the lock file still describes the manifest's base (image or distro).
    func lockIsCurrent(_ lock: Lockfile) -> Bool {
        if let distro = project.manifest.base.distro { return lock.distro?.matches(distro) ?? false }
        if case let .image(text, _) = lock.baseLock { return text == baseText.value }
        return false
    }
}
