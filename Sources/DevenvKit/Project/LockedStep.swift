import DevenvOCI

/// One project step in the lock: its definition (in the manifest's words, for people and
/// messages) and the digest of what it means to the builder, the files a copy takes, and
/// the packages a `packages` step resolved to.
public struct LockedStep: Equatable, Sendable {
    public var definition: String
    public var digest: Digest
    /// Sorted by path.
    public var files: [LockedFile]
    /// Sorted by name; empty until the step has been built (or for other kinds of step).
    public var packages: [LockedPackage]

    public init(definition: String, digest: Digest, files: [LockedFile] = [], packages: [LockedPackage] = []) {
        self.definition = definition
        self.digest = digest
        self.files = files.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        self.packages = packages.sorted { $0.name < $1.name }
    }

    func rendered() -> [String] {
        var lines = ["[[step]]", "definition = \(Lockfile.quote(definition))", "digest = \"\(digest)\""]
        if !files.isEmpty {
            lines.append("files = [")
            lines += files.map { "  { digest = \"\($0.digest)\", mode = \"\($0.modeText)\", path = \(Lockfile.quote($0.path)) }," }
            lines.append("]")
        }
        return lines + LockedPackage.renderedList("packages", packages)
    }
}

/// A file a copy step takes from the project: its project-relative path, content digest
/// and permission bits.
public struct LockedFile: Equatable, Sendable {
    public var path: String
    public var digest: Digest
    public var mode: UInt32

    public init(path: String, digest: Digest, mode: UInt32) {
        self.path = path
        self.digest = digest
        self.mode = mode
    }

    var modeText: String { "0" + String(mode & 0o7777, radix: 8) }
}

/// A package a `packages` step installed (its dependencies too): exactly the version, for
/// the architecture, whose `.deb` has this SHA-256 (from the archive's index).
public struct LockedPackage: Equatable, Sendable, Hashable {
    public var name: String
    public var version: String
    public var architecture: String
    public var sha256: String?

    public init(name: String, version: String, architecture: String, sha256: String? = nil) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.sha256 = sha256
    }

    /// `key = [` and one package a line, keys sorted; nothing for no packages.
    static func renderedList(_ key: String, _ packages: [LockedPackage]) -> [String] {
        guard !packages.isEmpty else { return [] }
        return ["\(key) = ["] + packages.map { package in
            var fields = ["architecture = \(Lockfile.quote(package.architecture))", "name = \(Lockfile.quote(package.name))"]
            if let sha256 = package.sha256 { fields.append("sha256 = \(Lockfile.quote(sha256))") }
            fields.append("version = \(Lockfile.quote(package.version))")
            return "  { \(fields.joined(separator: ", ")) },"
        } + ["]"]
    }
}
