import DevenvManifest
import DevenvOCI
import DevenvStore

/// The `[base]` of a lock file for a distro base: what the bootstrap was made from (the
/// mirror actually used, even when it came from the host), the key of that input set, and
/// the archive as the bootstrap saw it (`archive`: release and every package installed).
public struct DistroLock: Equatable, Sendable {
    /// `debian:bookworm`
    public var distro: String
    public var variant: String
    public var mirror: String
    public var snapshot: String?
    /// Sorted, without duplicates.
    public var packages: [String]
    /// The cap on the base's layers (`[base] layers`).
    public var layers: Int
    public var key: Digest
    /// nil in a lock written before devenv recorded it, or for a base image that lacks it.
    public var archive: ArchiveSnapshot?

    public init(_ base: DistroBase, archive: ArchiveSnapshot? = nil) {
        distro = base.name
        variant = base.variant
        mirror = base.mirror
        snapshot = base.snapshot
        packages = base.packages
        layers = base.layers
        key = base.key
        self.archive = archive
    }

    /// What `image`, the base bootstrapped for `base`, says it was made from.
    init(_ base: DistroBase, image: StoredImage) {
        self.init(base, archive: image.config.config?.labels.flatMap(ArchiveSnapshot.init(labels:)))
    }

    /// Whether the lock still describes what the manifest asks for. The mirror counts only
    /// when the manifest names one (or a snapshot): a lock written on a machine whose apt
    /// uses another mirror stays valid elsewhere.
    public func matches(_ wanted: Manifest.Distro) -> Bool {
        guard distro == wanted.name.value, variant == wanted.variantName, snapshot == wanted.snapshot?.value,
              packages == Array(Set(wanted.packages.map(\.value))).sorted(), layers == wanted.layerCap else { return false }
        if let declared = wanted.mirror?.value { return declared == mirror }
        return true
    }

    /// What differs from the manifest, for a `--frozen` failure.
    public func difference(from wanted: Manifest.Distro) -> String {
        var changes: [String] = []
        func note(_ key: String, _ locked: String, _ now: String) {
            if locked != now { changes.append("\(key) '\(Printable.escape(locked))' -> '\(Printable.escape(now))'") }
        }
        note("distro", distro, wanted.name.value)
        note("variant", variant, wanted.variantName)
        note("snapshot", snapshot ?? "", wanted.snapshot?.value ?? "")
        note("packages", packages.joined(separator: " "), Array(Set(wanted.packages.map(\.value))).sorted().joined(separator: " "))
        note("layers", String(layers), String(wanted.layerCap))
        if let declared = wanted.mirror?.value { note("mirror", mirror, declared) }
        return changes.joined(separator: ", ")
    }

    static func load(_ table: TOMLTable, path: String) throws -> DistroLock {
        func text(_ key: String, required: Bool = true) throws -> String? {
            guard let entry = table[key] else {
                if required { throw invalid(path, "missing '\(key)'") }
                return nil
            }
            guard let value = entry.node.value.stringValue else { throw invalid(path, "'\(key)' is not a string") }
            return value
        }
        var packages: [String] = []
        if let entry = table["packages"] {
            guard let items = entry.node.value.arrayValue?.compactMap({ $0.value.stringValue }),
                  items.count == entry.node.value.arrayValue?.count else { throw invalid(path, "'packages' is not an array of strings") }
            packages = items
        }
        guard let keyText = try text("key"), let key = try? Digest(parsing: keyText) else {
            throw invalid(path, "'key' is not a digest")
        }
        // Locks from before `[base] layers` split the base at the default.
        var layers = DistroBase.defaultLayers
        if let entry = table["layers"] {
            guard case let .integer(value) = entry.node.value, let cap = Int(exactly: value), cap >= 1 else {
                throw KitError.invalidLockFile(path: path, line: entry.node.location.line, problem: "[base] 'layers' is not a positive integer")
            }
            layers = cap
        }
        var lock = DistroLock(distro: try text("distro") ?? "", variant: try text("variant") ?? "", mirror: try text("mirror") ?? "",
                              snapshot: try text("snapshot", required: false), packages: packages, layers: layers, key: key)
        lock.packages = Array(Set(lock.packages)).sorted()
        if let suite = try text("suite", required: false) {
            let reader = LockReader(path: path)
            let release = table["in_release"] == nil ? nil : try reader.digest(table, "in_release", in: "[base]")
            lock.archive = ArchiveSnapshot(suite: suite, inRelease: release, date: try text("in_release_date", required: false),
                                           packages: try reader.packages(table, "installed", in: "[base]"))
        }
        return lock
    }

    private init(distro: String, variant: String, mirror: String, snapshot: String?, packages: [String], layers: Int, key: Digest) {
        self.distro = distro
        self.variant = variant
        self.mirror = mirror
        self.snapshot = snapshot
        self.packages = packages
        self.layers = layers
        self.key = key
    }

    private static func invalid(_ path: String, _ problem: String) -> KitError {
        KitError.invalidLockFile(path: path, line: nil, problem: "[base] \(problem)")
    }

    /// The `[base]` keys, sorted; the archive's packages one a line.
    func renderedKeys(digest: Digest) -> [String] {
        var lines = ["digest = \"\(digest)\"", "distro = \(Lockfile.quote(distro))"]
        if let archive {
            if let release = archive.inRelease { lines.append("in_release = \"\(release)\"") }
            if let date = archive.date { lines.append("in_release_date = \(Lockfile.quote(date))") }
            lines += LockedPackage.renderedList("installed", archive.packages)
        }
        lines += ["key = \"\(key)\"", "layers = \(layers)", "mirror = \(Lockfile.quote(mirror))"]
        if !packages.isEmpty { lines.append("packages = [\(packages.map(Lockfile.quote).joined(separator: ", "))]") }
        if let snapshot { lines.append("snapshot = \(Lockfile.quote(snapshot))") }
        if let archive { lines.append("suite = \(Lockfile.quote(archive.suite))") }
        lines.append("variant = \(Lockfile.quote(variant))")
        return lines
    }
}
