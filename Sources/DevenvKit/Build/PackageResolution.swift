import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a built `packages` step installed, for the lock: dpkg's status after the step
/// against before it (dependencies included), each with the `.deb`'s SHA-256 from the apt
/// lists the step's cache mount kept. Read from the image's snapshots; nothing runs.
struct PackageResolution {
    let store: ImageStore
    let request: BuildRequest

    static let statusPath = "var/lib/dpkg/status"
    /// dpkg's status of a large image is a few MB; an archive index tens of MB.
    static let statusLimit = 64 << 20
    static let indexLimit = 512 << 20

    /// By step index, for the steps in `indices` whose image has a dpkg database.
    func resolve(_ indices: [Int], image: StoredImage) throws -> [Int: [LockedPackage]] {
        let (lowerDirs, lease) = try store.mount(image)
        defer { withExtendedLifetime(lease) {} }
        let cache = Builder(store: store, executor: NoStepExecutor()).cache
        let keys = Builder.cacheKeys(request)
        // Layers in the image after each step: the base's, plus those each step made.
        var after: [Int] = []
        var count = request.base.manifest.layers.count
        for key in keys {
            count += cache.lookup(key)?.producedLayers.count ?? 0
            after.append(count)
        }
        var resolved: [Int: [LockedPackage]] = [:]
        for index in indices where index < keys.count {
            let before = index == 0 ? request.base.manifest.layers.count : after[index - 1]
            guard let now = try status(lowerDirs, layers: after[index]) else { continue }
            let was = try status(lowerDirs, layers: before) ?? ""
            let checksums = self.checksums(request.steps[index])
            resolved[index] = DebianControl.added(before: DebianControl.installed(status: was), after: DebianControl.installed(status: now)).map {
                var package = $0
                package.sha256 = checksums[DebianControl.key($0.name, $0.version, $0.architecture)]
                return package
            }
        }
        return resolved
    }

    /// dpkg's status as the first `layers` layers leave it (`lowerDirs` is topmost first).
    private func status(_ lowerDirs: [String], layers: Int) throws -> String? {
        guard layers > 0, layers <= lowerDirs.count else { return nil }
        for directory in lowerDirs[(lowerDirs.count - layers)...] {
            if let bytes = try Self.readConfined(Self.statusPath, in: directory, limit: Self.statusLimit) {
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return nil
    }

    /// A regular file of an image's snapshot, resolved inside it (the image's symlinks
    /// cannot lead out); nil when there is none.
    static func readConfined(_ relative: String, in directory: String, limit: Int) throws -> [UInt8]? {
        let root = try RootDirectory(opening: directory, crossesMounts: false)
        let raw: Int32?
        do {
            raw = try root.open(relative, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        } catch let error as SystemError where error.errno == ENOTDIR || error.errno == ELOOP {
            return nil
        }
        guard let raw else { return nil }
        let file = FileDescriptor(adopting: raw)
        guard try file.stat().st_mode & S_IFMT == S_IFREG else { return nil }
        return try file.readAll(limit: limit, path: "\(directory)/\(relative)")
    }

    /// The checksums of every index apt downloaded into the step's lists cache.
    private func checksums(_ planned: PlannedStep) -> [String: String] {
        guard let lists = planned.cacheMounts.first(where: { $0.containerPath == PackageInstaller.aptLists })?.hostPath,
              let names = try? FileManager.default.contentsOfDirectory(atPath: lists) else { return [:] }
        var checksums: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix("_Packages") {
            guard let bytes = try? FileDescriptor.readRegularFile("\(lists)/\(name)", limit: Self.indexLimit, operation: "read an apt index") else { continue }
            checksums.merge(DebianControl.checksums(index: String(decoding: bytes, as: UTF8.self))) { first, _ in first }
        }
        return checksums
    }
}

/// For reading the build cache without building.
struct NoStepExecutor: StepExecutor {
    func execute(_ execution: StepExecution) throws -> Int32 { 125 }
}
