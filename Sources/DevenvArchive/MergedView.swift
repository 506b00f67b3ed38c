import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The layers below the snapshot being unpacked; entries' parent paths resolve through them.
public enum LowerLayers: Sendable, Equatable {
    /// The image's first layer.
    case none
    /// The lower layers' snapshot directories, topmost first (overlayfs `lowerdir` order).
    case directories([String])
    /// There are lower layers, but their snapshots are not ready (a layer unpacked while the
    /// image is still downloading). An entry whose result depends on them fails with
    /// `ArchiveError.Kind.needsLowerLayers`; the caller unpacks the layer again later.
    case pending
}

/// Path resolution in the merged view of the snapshot being written over its lower layers,
/// as overlayfs will show it: a name in a higher layer hides the same name below, directories
/// merge unless the higher one is opaque, a whiteout hides everything below. Symlinks of any
/// layer resolve as if the snapshot were `/` (`..` stops at the root, an absolute target
/// starts from it; at most 40 per path), like RESOLVE_IN_ROOT. Only the snapshot is written:
/// a parent directory that only a lower layer has is created in the snapshot (copy-up).
final class MergedView {
    /// Called for a directory created in the snapshot because a lower layer has it (`path`
    /// is its symlink-free path, `lower` the topmost lower directory, opened with O_PATH).
    typealias CopyUp = (_ path: EntryPath, _ parent: FileDescriptor, _ name: [UInt8], _ lower: FileDescriptor) throws -> Void

    static let maxSymlinks = 40

    /// One directory of the merged view: its node in the snapshot (nil until created) and in
    /// each lower layer that contributes to it, topmost first.
    private struct Directory {
        var name: [UInt8]
        var upper: FileDescriptor?
        var lowers: [FileDescriptor]
        /// What lies below in lower layers is not known yet (`LowerLayers.pending`).
        var lowersPending: Bool
        /// The name is a whiteout in the snapshot: the directory replacing it must be opaque,
        /// or the lower layers' deleted contents would show through.
        var overWhiteout = false
    }

    private enum Node {
        case directory(Directory)
        case symlink([UInt8])
        case missing(overWhiteout: Bool)
        case notDirectory
    }

    private let lowerRoots: [FileDescriptor]
    private let pending: Bool
    let opaqueXattr: [UInt8]
    var copiedUp: CopyUp?

    init(lowers: LowerLayers, opaqueXattr: [UInt8]) throws {
        self.opaqueXattr = opaqueXattr
        switch lowers {
        case .none:
            lowerRoots = []
            pending = false
        case .pending:
            lowerRoots = []
            pending = true
        case let .directories(paths):
            // Lower layers are read-only: which of them an opaque root hides is known now.
            var roots: [FileDescriptor] = []
            for path in paths {
                let root = try FileDescriptor.open(path, O_PATH | O_DIRECTORY)
                roots.append(root)
                if try Self.isOpaque(root, opaqueXattr) { break }
            }
            lowerRoots = roots
            pending = false
        }
    }

    /// The directory at `path` in the snapshot, resolved in the merged view. With `create`,
    /// components missing from the snapshot are made (as the lower layer's copy, or 0755
    /// directories); a component that does not exist anywhere may only come from the entry
    /// itself, never from a symlink's target (a dangling symlink is an error).
    func resolve(_ path: EntryPath, create: Bool, rooted: RootedDirectory) throws -> (directory: FileDescriptor, followedSymlink: Bool) {
        var stack = [try rootDirectory(rooted.root)]
        var pendingNames: [(name: [UInt8], fromLink: Bool)] = path.components.reversed().map { ($0, false) }
        var links = 0
        while let (name, fromLink) = pendingNames.popLast() {
            if name.isEmpty || name == Self.dot { continue }
            if name == Self.dotDot {
                if stack.count > 1 { stack.removeLast() }
                continue
            }
            switch try child(stack[stack.count - 1], name) {
            case let .directory(directory):
                // Never write below a name overlayfs users would read as a whiteout.
                guard !name.starts(with: WhiteoutName.prefix) else {
                    throw Failure(.invalidWhiteout, "a parent directory resolves to '\(Printable.escape(bytes: name))' (a whiteout name)")
                }
                stack.append(directory)
            case let .symlink(target):
                links += 1
                guard links <= Self.maxSymlinks else { throw RootedDirectory.resolveFailure(ELOOP) }
                if target.first == UInt8(ascii: "/") { stack.removeSubrange(1...) }
                pendingNames += target.split(separator: UInt8(ascii: "/")).reversed().map { (Array($0), true) }
            case let .missing(overWhiteout):
                guard create, !fromLink else { throw RootedDirectory.resolveFailure(ENOENT) }
                stack.append(Directory(name: name, upper: nil, lowers: [], lowersPending: false, overWhiteout: overWhiteout))
            case .notDirectory:
                throw RootedDirectory.resolveFailure(ENOTDIR)
            }
        }
        for index in stack.indices.dropFirst() where stack[index].upper == nil {
            guard create, let parent = stack[index - 1].upper else { throw RootedDirectory.resolveFailure(ENOENT) }
            let location = EntryPath(components: stack[1...index].map(\.name))
            stack[index].upper = try materialise(stack[index], in: parent, path: location, rooted: rooted)
        }
        return (stack[stack.count - 1].upper!, links > 0)
    }

    /// Sets the opaque xattr on a directory (given by any fd, O_PATH included).
    func setOpaque(_ directory: FileDescriptor) throws {
        let code = XattrIO.set(.node(directory: directory.raw, name: []), name: opaqueXattr, value: Self.yes)
        guard code == 0 else {
            throw Failure(.system(operation: "setxattr", errno: code), "set \(String(decoding: opaqueXattr, as: UTF8.self)) on an opaque directory")
        }
    }

    func isOpaque(_ directory: FileDescriptor) throws -> Bool {
        try Self.isOpaque(directory, opaqueXattr)
    }

    private static func isOpaque(_ directory: FileDescriptor, _ xattr: [UInt8]) throws -> Bool {
        try XattrIO.value(.node(directory: directory.raw, name: []), name: xattr) == yes
    }

    // MARK: lookup

    private func rootDirectory(_ root: FileDescriptor) throws -> Directory {
        if try isOpaque(root) { return Directory(name: [], upper: root, lowers: [], lowersPending: false) }
        return Directory(name: [], upper: root, lowers: lowerRoots, lowersPending: pending)
    }

    /// What `name` is in the merged directory `parent`, overlayfs's lookup rules.
    private func child(_ parent: Directory, _ name: [UInt8]) throws -> Node {
        var upper: FileDescriptor?
        var hidesLowers = false
        if let directory = parent.upper, let info = try RootedDirectory.status(directory, name) {
            if info.isDirectory {
                let fd = try Self.open(directory, name)
                upper = fd
                hidesLowers = try isOpaque(fd)
            } else if info.isSymlink {
                return .symlink(try Self.readLink(directory, name))
            } else if info.isWhiteout {
                return .missing(overWhiteout: true)
            } else {
                return .notDirectory
            }
        }
        if parent.lowersPending && upper == nil {
            throw Failure(.needsLowerLayers, "a parent directory missing from this layer may come from a lower layer, which is not unpacked yet")
        }
        var lowers: [FileDescriptor] = []
        if !hidesLowers {
            for layer in parent.lowers {
                guard let info = try RootedDirectory.status(layer, name) else { continue }
                if info.isDirectory {
                    let fd = try Self.open(layer, name)
                    lowers.append(fd)
                    if try isOpaque(fd) { break }
                    continue
                }
                // A non-directory hides what lies below it; it is the answer only when no
                // layer above has a directory there.
                if upper != nil || !lowers.isEmpty || info.isWhiteout { break }
                if info.isSymlink { return .symlink(try Self.readLink(layer, name)) }
                return .notDirectory
            }
        }
        if upper == nil && lowers.isEmpty { return .missing(overWhiteout: false) }
        return .directory(Directory(name: name, upper: upper, lowers: lowers, lowersPending: parent.lowersPending && !hidesLowers))
    }

    /// Creates a directory of the merged view in the snapshot: opaque over a whiteout of this
    /// layer, else with the lower layer's metadata (applied by `copiedUp`).
    private func materialise(_ directory: Directory, in parent: FileDescriptor, path: EntryPath, rooted: RootedDirectory) throws -> FileDescriptor {
        let name = directory.name
        if directory.overWhiteout {
            rooted.invalidate()
            guard withCString(name, { unlinkat(parent.raw, $0, 0) }) == 0 else { throw Failure.system("unlinkat") }
        }
        guard withCString(name, { mkdirat(parent.raw, $0, 0o755) }) == 0 else { throw Failure.system("mkdirat") }
        let fd = try Self.open(parent, name)
        if directory.overWhiteout {
            try setOpaque(fd)
        } else if let lower = directory.lowers.first, let copiedUp {
            try copiedUp(path, parent, name, lower)
        }
        return fd
    }

    private static func open(_ directory: FileDescriptor, _ name: [UInt8]) throws -> FileDescriptor {
        let fd = withCString(name) { openat(directory.raw, $0, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw RootedDirectory.resolveFailure(errno) }
        return FileDescriptor(adopting: fd)
    }

    private static func readLink(_ directory: FileDescriptor, _ name: [UInt8]) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Linux.pathMax + 1)
        let count = withCString(name) { cName in
            buffer.withUnsafeMutableBytes { readlinkat(directory.raw, cName, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard count >= 0 else { throw Failure.system("readlinkat") }
        guard count <= Linux.pathMax else { throw RootedDirectory.resolveFailure(ENAMETOOLONG) }
        return Array(buffer.prefix(count))
    }

    private static let dot = [UInt8(ascii: ".")]
    private static let dotDot = [UInt8(ascii: "."), UInt8(ascii: ".")]
    private static let yes = [UInt8(ascii: "y")]
}
