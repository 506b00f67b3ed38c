import DevenvManifest
import DevenvOCI

/// The `[base]` of a lock file for a distro base: what the bootstrap was made from (the
/// mirror actually used, even when it came from the host) and the key of that input set.
public struct DistroLock: Equatable, Sendable {
    /// `debian:bookworm`
    public var distro: String
    public var variant: String
    public var mirror: String
    public var snapshot: String?
    /// Sorted, without duplicates.
    public var packages: [String]
    public var key: Digest

    public init(_ base: DistroBase) {
        distro = base.name
        variant = base.variant
        mirror = base.mirror
        snapshot = base.snapshot
        packages = base.packages
        key = base.key
    }

    /// Whether the lock still describes what the manifest asks for. The mirror counts only
    /// when the manifest names one (or a snapshot): a lock written on a machine whose apt
    /// uses another mirror stays valid elsewhere.
    public func matches(_ wanted: Manifest.Distro) -> Bool {
        guard distro == wanted.name.value, variant == wanted.variantName, snapshot == wanted.snapshot?.value,
              packages == Array(Set(wanted.packages.map(\.value))).sorted() else { return false }
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
        var lock = DistroLock(distro: try text("distro") ?? "", variant: try text("variant") ?? "", mirror: try text("mirror") ?? "",
                              snapshot: try text("snapshot", required: false), packages: packages, key: key)
        lock.packages = Array(Set(lock.packages)).sorted()
        return lock
    }

    private init(distro: String, variant: String, mirror: String, snapshot: String?, packages: [String], key: Digest) {
        self.distro = distro
        self.variant = variant
        self.mirror = mirror
        self.snapshot = snapshot
        self.packages = packages
        self.key = key
    }

    private static func invalid(_ path: String, _ problem: String) -> KitError {
        KitError.invalidLockFile(path: path, line: nil, problem: "[base] \(problem)")
    }

    /// The `[base]` keys, sorted.
    func renderedKeys(digest: Digest) -> [String] {
        var lines = ["digest = \"\(digest)\"", "distro = \(Lockfile.quote(distro))", "key = \"\(key)\"", "mirror = \(Lockfile.quote(mirror))"]
        if !packages.isEmpty { lines.append("packages = [\(packages.map(Lockfile.quote).joined(separator: ", "))]") }
        if let snapshot { lines.append("snapshot = \(Lockfile.quote(snapshot))") }
        lines.append("variant = \(Lockfile.quote(variant))")
        return lines
    }
}
