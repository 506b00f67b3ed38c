import DevenvOCI

/// One way two locks differ, naming what: the base, a step (with its manifest line when
/// known), a file, a package and both versions, an image.
public struct LockChange: Equatable, Sendable, CustomStringConvertible {
    public var subject: String
    public var change: String

    public var description: String { "\(subject): \(change)" }
}

/// What differs between the lock on disk and the one the project resolves to now. Pure.
public enum LockComparison {
    /// `locations` name the current steps (`.devenv/devenv.toml:8`), by index.
    public static func changes(from old: Lockfile, to new: Lockfile, locations: [String] = []) -> [LockChange] {
        var changes = baseChanges(old.baseLock, new.baseLock)
        changes += imageChanges(old.images, new.images)
        switch (old.steps, new.steps) {
        case let (oldSteps?, newSteps?):
            changes += stepChanges(oldSteps, newSteps, locations: locations, format: old.format)
        case (nil, _?):
            changes.append(LockChange(subject: "steps", change: "not recorded (a version 1 lock)"))
        default:
            break
        }
        return changes
    }

    private static func baseChanges(_ old: Lockfile.Base, _ new: Lockfile.Base) -> [LockChange] {
        switch (old, new) {
        case let (.image(oldText, oldDigest), .image(newText, newDigest)):
            if oldText != newText { return [LockChange(subject: "base", change: "image '\(Printable.escape(oldText))' -> '\(Printable.escape(newText))'")] }
            if oldDigest != newDigest { return [LockChange(subject: "base \(Printable.escape(newText))", change: "moved \(oldDigest) -> \(newDigest)")] }
        case let (.dockerfile(oldPath, oldDigest), .dockerfile(newPath, newDigest)):
            if oldPath != newPath { return [LockChange(subject: "base", change: "dockerfile '\(Printable.escape(oldPath))' -> '\(Printable.escape(newPath))'")] }
            if oldDigest != newDigest { return [LockChange(subject: "base \(Printable.escape(newPath))", change: "changed \(oldDigest) -> \(newDigest)")] }
        case let (.distro(oldDistro, oldDigest), .distro(newDistro, newDigest)):
            let fields = oldDistro.fieldChanges(to: newDistro)
            if !fields.isEmpty { return [LockChange(subject: "base", change: fields.joined(separator: ", "))] }
            if oldDigest != newDigest {
                // What moved in the archive, package by package, when both bootstraps recorded it.
                let subject = "base \(Printable.escape(newDistro.distro))"
                let moved = oldDistro.archive.flatMap { was in newDistro.archive.map { was.changes(to: $0) } } ?? []
                return [LockChange(subject: subject, change: "rebootstrapped \(oldDigest) -> \(newDigest)")] + moved.map { LockChange(subject: subject, change: $0) }
            }
        default:
            return [LockChange(subject: "base", change: "\(kind(old)) -> \(kind(new))")]
        }
        return []
    }

    private static func kind(_ base: Lockfile.Base) -> String {
        switch base {
        case let .image(text, _): return "image '\(Printable.escape(text))'"
        case let .distro(distro, _): return "distro '\(Printable.escape(distro.distro))'"
        case let .dockerfile(path, _): return "dockerfile '\(Printable.escape(path))'"
        }
    }

    private static func imageChanges(_ old: [String: Digest], _ new: [String: Digest]) -> [LockChange] {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            let subject = "image \(Printable.escape(name))"
            switch (old[name], new[name]) {
            case let (was?, now?) where was != now: return LockChange(subject: subject, change: "moved \(was) -> \(now)")
            case let (nil, now?): return LockChange(subject: subject, change: "added at \(now)")
            case let (was?, nil): return LockChange(subject: subject, change: "removed (was \(was))")
            default: return nil
            }
        }
    }

    /// `format`: the old lock's version, which explains a `packages` step whose words did not
    /// change but whose meaning to the builder did (its layers, before version 3).
    private static func stepChanges(_ old: [LockedStep], _ new: [LockedStep], locations: [String], format: Int) -> [LockChange] {
        var changes: [LockChange] = []
        for index in 0..<max(old.count, new.count) {
            let subject = "step \(index + 1)" + (index < locations.count ? " (\(locations[index]))" : "")
            guard index < old.count else {
                changes.append(LockChange(subject: subject, change: "added '\(Printable.escape(new[index].definition))'"))
                continue
            }
            guard index < new.count else {
                changes.append(LockChange(subject: subject, change: "removed '\(Printable.escape(old[index].definition))'"))
                continue
            }
            let (was, now) = (old[index], new[index])
            if was.digest != now.digest {
                var change = was.definition == now.definition ? "definition changed (\(was.digest.short) -> \(now.digest.short))"
                    : "'\(Printable.escape(was.definition))' -> '\(Printable.escape(now.definition))'"
                if was.definition == now.definition, format < Lockfile.packageLayersVersion, now.definition.hasPrefix("packages ") {
                    change += ": the lock was written by an older devenv (lock version \(format), before per-package layers); `devenv lock` refreshes it"
                }
                changes.append(LockChange(subject: subject, change: change))
            }
            changes += fileChanges(was.files, now.files).map { LockChange(subject: subject, change: $0) }
            changes += packageChanges(was.packages, now.packages).map { LockChange(subject: subject, change: $0) }
        }
        return changes
    }

    private static func fileChanges(_ old: [LockedFile], _ new: [LockedFile]) -> [String] {
        let was = Dictionary(old.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let now = Dictionary(new.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        return Set(was.keys).union(now.keys).sorted().compactMap { path in
            let name = Printable.escape(path)
            switch (was[path], now[path]) {
            case let (before?, after?) where before.digest != after.digest: return "file \(name) changed (\(before.digest.short) -> \(after.digest.short))"
            case let (before?, after?) where before.mode != after.mode: return "file \(name) mode \(before.modeText) -> \(after.modeText)"
            case (nil, _?): return "file \(name) added"
            case (_?, nil): return "file \(name) removed"
            default: return nil
            }
        }
    }

    /// `package NAME OLD -> NEW`, `… added`, `… removed`, `… has another .deb checksum`.
    static func packageChanges(_ old: [LockedPackage], _ new: [LockedPackage]) -> [String] {
        let was = Dictionary(old.map { ("\($0.name):\($0.architecture)", $0) }, uniquingKeysWith: { first, _ in first })
        let now = Dictionary(new.map { ("\($0.name):\($0.architecture)", $0) }, uniquingKeysWith: { first, _ in first })
        return Set(was.keys).union(now.keys).sorted().compactMap { key in
            switch (was[key], now[key]) {
            case let (before?, after?) where before.version != after.version:
                return "package \(Printable.escape(after.name)) \(Printable.escape(before.version)) -> \(Printable.escape(after.version))"
            case let (before?, after?) where before.sha256 != after.sha256:
                return "package \(Printable.escape(after.name)) \(Printable.escape(after.version)) has another .deb checksum"
            case let (nil, after?): return "package \(Printable.escape(after.name)) \(Printable.escape(after.version)) added"
            case let (before?, nil): return "package \(Printable.escape(before.name)) \(Printable.escape(before.version)) removed"
            default: return nil
            }
        }
    }
}

extension DistroLock {
    /// The bootstrap inputs that differ, as `key 'old' -> 'new'`.
    func fieldChanges(to other: DistroLock) -> [String] {
        var changes: [String] = []
        func note(_ key: String, _ locked: String, _ now: String) {
            if locked != now { changes.append("\(key) '\(Printable.escape(locked))' -> '\(Printable.escape(now))'") }
        }
        note("distro", distro, other.distro)
        note("variant", variant, other.variant)
        note("mirror", mirror, other.mirror)
        note("snapshot", snapshot ?? "", other.snapshot ?? "")
        note("packages", packages.joined(separator: " "), other.packages.joined(separator: " "))
        note("layers", String(layers), String(other.layers))
        return changes
    }
}
