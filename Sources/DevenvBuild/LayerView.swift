import DevenvArchive
import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The filesystem an overlay of snapshot directories would show, read without mounting
/// anything: a 0:0 character device whites out what is below it, an opaque directory
/// (`trusted.overlay.opaque` or `user.overlay.opaque` = `y`) hides the lower layers'
/// contents, and a non-directory hides everything below it. Used to copy files out of an
/// earlier stage and to see which destination directories an image already has.
public struct LayerView: Sendable {
    /// Snapshot directories, topmost first (overlayfs' lowerdir order).
    public let lowerDirs: [String]
    /// How the snapshots' owners read as the image's (a rootless store); nil: as on disk.
    public let ownership: ImageOwnership?

    public init(lowerDirs: [String], ownership: ImageOwnership? = nil) {
        self.lowerDirs = lowerDirs
        self.ownership = ownership
    }

    /// One visible object: where its topmost copy lives on the host and what it is.
    public struct Node: Sendable {
        public var hostPath: String
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var size: Int64
        /// For a directory, the layers (indexes into `lowerDirs`) whose copies merge into it.
        var layers: [Int]

        public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
        public var isSymlink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
        public var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
        public var permissions: UInt32 { mode & 0o7777 }
    }

    public enum Failure: Error, CustomStringConvertible, Sendable {
        case tooManySymlinks(String)

        public var description: String {
            switch self {
            case let .tooManySymlinks(path): return "too many levels of symbolic links resolving \(Printable.quoted(path)) in the image"
            }
        }
    }

    /// The root directory (always present, even with no layers).
    public var root: Node {
        let top = lowerDirs.first.flatMap { stat("\($0)/") }
        return Node(hostPath: lowerDirs.first ?? "/nonexistent", mode: top?.mode ?? UInt32(S_IFDIR) | 0o755,
                    uid: top?.uid ?? 0, gid: top?.gid ?? 0, size: 0, layers: Array(lowerDirs.indices))
    }

    /// The object at `path` (absolute, in the image), following no symlinks.
    public func lookup(_ path: String) -> Node? {
        var node = root
        var prefix = ""
        for component in Self.components(path) {
            guard node.isDirectory, let child = child(component, of: node, prefix: prefix) else { return nil }
            node = child
            prefix += "/" + component
        }
        return node
    }

    /// `path` with every symlink in it resolved inside the image (an absolute target starts
    /// again at the image's root; `..` never climbs above it), and the object there if
    /// any. Components after the first missing one are kept as written.
    public func resolve(_ path: String) throws -> (path: String, node: Node?) {
        var pending = Self.components(path)
        pending.reverse()
        var resolved: [String] = []
        var nodes: [Node] = [root]
        var links = 0
        while let component = pending.popLast() {
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast(); nodes.removeLast() }
                continue
            }
            guard let parent = nodes.last, parent.isDirectory,
                  let child = child(component, of: parent, prefix: resolved.isEmpty ? "" : "/" + resolved.joined(separator: "/")) else {
                resolved.append(component)
                resolved += pending.reversed()
                return ("/" + resolved.joined(separator: "/"), nil)
            }
            if child.isSymlink {
                links += 1
                guard links <= 40 else { throw Failure.tooManySymlinks(path) }
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: child.hostPath)) ?? ""
                if target.hasPrefix("/") {
                    resolved.removeAll()
                    nodes = [root]
                }
                pending += Self.components(target).reversed()
                continue
            }
            resolved.append(component)
            nodes.append(child)
        }
        return ("/" + resolved.joined(separator: "/"), nodes.last)
    }

    /// The visible entries of a directory, by name.
    public func list(_ directory: Node) -> [String: Node] {
        guard directory.isDirectory, let top = directory.layers.first else { return [:] }
        let relative = String(directory.hostPath.dropFirst(lowerDirs[top].count))
        var seen = Set<String>()
        var result: [String: Node] = [:]
        for layer in directory.layers {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: lowerDirs[layer] + relative)) ?? []
            for name in names where !seen.contains(name) {
                seen.insert(name)
                if let node = child(name, of: directory, prefix: relative) { result[name] = node }
            }
        }
        return result
    }

    /// A small regular file's contents (such as /etc/passwd), following symlinks in the image.
    public func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        guard let node = try? resolve(path).node, node.isRegularFile, node.size <= Int64(limit) else { return nil }
        return try? FileDescriptor.readRegularFile(node.hostPath, limit: limit, flags: O_NOFOLLOW)
    }

    // MARK: Merging

    /// `name` inside `directory` (whose path below each layer root is `prefix`), or nil when
    /// no layer has it or the topmost one whites it out.
    private func child(_ name: String, of directory: Node, prefix: String) -> Node? {
        var found: Node?
        for layer in directory.layers {
            let path = "\(lowerDirs[layer])\(prefix)/\(name)"
            guard let info = stat(path) else { continue }
            let isDirectory = info.mode & UInt32(S_IFMT) == UInt32(S_IFDIR)
            if Self.isWhiteout(info) { break }
            if var current = found {
                // Below a directory only directories merge; anything else ends the merge.
                guard isDirectory else { break }
                current.layers.append(layer)
                found = current
            } else {
                found = Node(hostPath: path, mode: info.mode, uid: info.uid, gid: info.gid, size: info.size, layers: isDirectory ? [layer] : [])
                if !isDirectory { break }
            }
            if isDirectory && Self.isOpaque(path) { break }
        }
        return found
    }

    private struct Info {
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var rdev: UInt64
    }

    /// With the image's owner (`ownership`) rather than the ids on disk.
    private func stat(_ path: String) -> Info? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return nil }
        var result = Info(mode: UInt32(info.st_mode), uid: info.st_uid, gid: info.st_gid, size: Int64(info.st_size), rdev: UInt64(info.st_rdev))
        if let ownership {
            let recorded = info.st_uid == ownership.unpacker.uid || info.st_gid == ownership.unpacker.gid
                ? ExtendedAttribute.get(RecordedOwner.xattrName, of: path, limit: 32).flatMap(RecordedOwner.init(xattrValue:)) : nil
            let owner = ownership.imageOwner(uid: info.st_uid, gid: info.st_gid, recorded: recorded)
            result.uid = owner.uid
            result.gid = owner.gid
        }
        return result
    }

    private static func isWhiteout(_ info: Info) -> Bool {
        info.mode & UInt32(S_IFMT) == UInt32(S_IFCHR) && info.rdev == 0
    }

    private static func isOpaque(_ path: String) -> Bool {
        for prefix in ["trusted.overlay.", "user.overlay."] where ExtendedAttribute.get(prefix + "opaque", of: path, limit: 16) == Array("y".utf8) {
            return true
        }
        return false
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }
}
