import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Splits a `packages` step's upper directory into one directory per layer
/// (`PackageLayerPlan`), each later committed and kept as a snapshot like a step's upper
/// directory: files are hard-linked into their layers (a file two packages list is in
/// both), directories re-created with the upper's owner, mode, times and attributes.
/// Codable: rootless, it runs in the helper in the user namespace, where the step's files
/// and owners are as its container saw them.
public struct UpperSplit: Codable, Sendable, Equatable {
    public var commit: UpperCommit
    /// Where the layers' directories go (`0`, `1`, …): on the upper directory's filesystem.
    public var partsDirectory: String
    public var limit: Int

    public init(commit: UpperCommit, partsDirectory: String, limit: Int) {
        self.commit = commit
        self.partsDirectory = partsDirectory
        self.limit = limit
    }

    /// One layer's directory, in layer order.
    public struct Part: Codable, Sendable, Equatable {
        public var directory: String
        public var comment: String
    }

    static let dpkgInfo = "var/lib/dpkg/info"

    /// `UpperCommit.removeStubs`, then the split. Nil when the step stays one layer: the
    /// limit is 1, no dpkg list is in the upper directory (apk, dnf), or a name in it is
    /// not UTF-8 (dpkg's lists could not name it).
    public func run() throws -> [Part]? {
        try commit.removeStubs()
        guard limit > 1, let nodes = try Self.nodes(in: commit.upperDir) else { return nil }
        let claims = try self.claims(nodes)
        guard !claims.isEmpty else { return nil }
        let layers = PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: limit)
        guard layers.count > 1 else { return nil }
        let kinds = Dictionary(nodes.map { ($0.path, $0.kind) }, uniquingKeysWith: { first, _ in first })
        return try layers.enumerated().map { index, layer in
            let directory = "\(partsDirectory)/\(index)"
            try materialize(layer, kinds: kinds, into: directory)
            return Part(directory: directory, comment: layer.comment)
        }
    }

    // MARK: Reading the upper directory

    /// Every node below `root`, without following symlinks; nil when a name is not UTF-8.
    static func nodes(in root: String) throws -> [PackageLayerPlan.Node]? {
        var nodes: [PackageLayerPlan.Node] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : "\(root)/\(relative)"
            guard let names = try entries(of: directory) else { return nil }
            for name in names {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                var info = stat()
                guard lstat("\(root)/\(path)", &info) == 0 else { throw SystemError.last("lstat", path: "\(root)/\(path)") }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    nodes.append(.init(path: path, kind: .directory, isOpaque: isOpaque("\(root)/\(path)")))
                    pending.append(path)
                case S_IFREG:
                    nodes.append(.init(path: path, kind: .file(size: Int64(info.st_size))))
                default:
                    nodes.append(.init(path: path, kind: .other))
                }
            }
        }
        return nodes
    }

    /// The names in a directory; nil when one is not UTF-8.
    private static func entries(of directory: String) throws -> [String]? {
        guard let stream = opendir(directory) else { throw SystemError.last("opendir", path: directory) }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemError.last("readdir", path: directory) }
                return names
            }
            let bytes: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2e] || bytes == [0x2e, 0x2e] { continue }
            guard let name = String(validating: bytes, as: UTF8.self) else { return nil }
            names.append(name)
        }
    }

    static let opaqueAttributes = ["trusted.overlay.opaque", "user.overlay.opaque"]

    private static func isOpaque(_ path: String) -> Bool {
        opaqueAttributes.contains { ExtendedAttribute.get($0, of: path, limit: 16) == Array("y".utf8) }
    }

    /// By package (`name` or `name:arch`, as dpkg names its files): the upper paths its
    /// list names, and its own files in dpkg's database, for each list in the upper
    /// directory (the packages this step installed or upgraded).
    func claims(_ nodes: [PackageLayerPlan.Node]) throws -> [String: Set<String>] {
        let info = nodes.filter { $0.path.hasPrefix(Self.dpkgInfo + "/") && !$0.path.dropFirst(Self.dpkgInfo.count + 1).contains("/") }
        let lists = info.filter { $0.path.hasSuffix(".list") && $0.kind != .other && $0.kind != .directory }
        // The image's symlinks (`/bin -> usr/bin`) decide where a listed file really is.
        let view = LayerView(lowerDirs: [commit.upperDir] + commit.lowerDirs)
        var resolvedParents: [String: String] = [:]
        var claims: [String: Set<String>] = [:]
        for list in lists {
            let file = String(list.path.dropFirst(Self.dpkgInfo.count + 1))
            let package = String(file.dropLast(".list".count))
            var paths = Set(info.filter { Self.stem(of: $0.path) == package }.map(\.path))
            let text = try FileDescriptor.readRegularFile("\(commit.upperDir)/\(list.path)", limit: Self.listLimit, flags: O_NOFOLLOW)
            for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
                guard line.hasPrefix("/"), line != "/.", let slash = line.lastIndex(of: "/") else { continue }
                let parent = String(line[..<slash])
                let resolved: String
                if let known = resolvedParents[parent] {
                    resolved = known
                } else {
                    resolved = String(try view.resolve(parent.isEmpty ? "/" : parent).path.dropFirst())
                    resolvedParents[parent] = resolved
                }
                let name = line[line.index(after: slash)...]
                paths.insert(resolved.isEmpty ? String(name) : "\(resolved)/\(name)")
            }
            claims[package] = paths
        }
        return claims
    }

    /// dpkg's list of a large package (texlive's docs) is a few MB.
    static let listLimit = 64 << 20

    /// `var/lib/dpkg/info/libc6:amd64.md5sums` -> `libc6:amd64` (no file of dpkg's database
    /// has a dot in its suffix; package names may have dots).
    static func stem(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    // MARK: Writing a layer's directory

    private func materialize(_ layer: PackageLayerPlan.Layer, kinds: [String: PackageLayerPlan.Node.Kind], into directory: String) throws {
        let upper = commit.upperDir
        // The layer's root belongs to whoever owns the parts, as a step's upper directory
        // belongs to the builder: the store moves it into its snapshots, which a directory
        // of another owner could not be (rename needs to write its `..`). No layer records it.
        try make(directory: directory, like: upper, owner: partsDirectory, opaque: false)
        var directories = [(directory, upper)]
        let opaque = Set(layer.opaque)
        for path in layer.paths {
            let (source, target) = ("\(upper)/\(path)", "\(directory)/\(path)")
            if kinds[path] == .directory {
                try make(directory: target, like: source, opaque: opaque.contains(path))
                directories.append((target, source))
            } else if linkat(AT_FDCWD, source, AT_FDCWD, target, 0) != 0 {
                throw SystemError.last("link into the layer's directory", path: target)
            }
        }
        // Last, deepest first: linking into a directory changes its mtime.
        for (target, source) in directories.reversed() {
            var info = stat()
            guard lstat(source, &info) == 0 else { throw SystemError.last("lstat", path: source) }
            var times = [info.st_atim, info.st_mtim]
            guard utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError.last("utimensat", path: target) }
        }
    }

    /// A directory with the owner, mode and attributes of `source`; its opaque marker only
    /// when this layer is the one to carry it.
    private func make(directory target: String, like source: String, owner: String? = nil, opaque: Bool) throws {
        var info = stat(), owned = stat()
        guard lstat(source, &info) == 0 else { throw SystemError.last("lstat", path: source) }
        guard lstat(owner ?? source, &owned) == 0 else { throw SystemError.last("lstat", path: owner ?? source) }
        guard mkdir(target, 0o700) == 0 else { throw SystemError.last("mkdir", path: target) }
        guard lchown(target, owned.st_uid, owned.st_gid) == 0 else { throw SystemError.last("chown", path: target) }
        guard chmod(target, info.st_mode & 0o7777) == 0 else { throw SystemError.last("chmod", path: target) }
        let from = try FileDescriptor.open(source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        let to = try FileDescriptor.open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        for name in try ExtendedAttribute.names(.descriptor(from.raw)) {
            let text = String(decoding: name, as: UTF8.self)
            if Self.opaqueAttributes.contains(text) && !opaque { continue }
            guard let value = try ExtendedAttribute.value(.descriptor(from.raw), name: name) else { continue }
            let status = ExtendedAttribute.set(.descriptor(to.raw), name: name, value: value)
            // What the upper directory could hold, its copy can, except what this process
            // may not set (security labels); the layer leaves those out anyway.
            guard status == 0 || status == EPERM || status == ENOTSUP else {
                throw SystemError("set the attribute \(text)", path: target, errno: status)
            }
        }
    }
}
