import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// A snapshot being unpacked, confined to its directory (`RootDirectory`, which never crosses
/// a mount point here). Paths are resolved with openat2(RESOLVE_IN_ROOT), or component by component in the merged view over the lower
/// layers (MergedView) when the directory alone cannot resolve them: symlinks, absolute or
/// relative, resolve as if the root were `/` (a chroot), so `localetc -> /etc` then
/// `localetc/x` lands in `<root>/etc/x`. Final components are then created
/// with *at() calls that never follow a symlink. Recently resolved parent directories are
/// cached by path.
final class RootedDirectory {
    static let cacheLimit = 16

    let confined: RootDirectory
    var root: FileDescriptor { confined.descriptor }
    let merged: MergedView
    // Most recently used last. Entries are FileDescriptor objects, so an fd handed out stays
    // open while its user holds it, even if it is evicted meanwhile.
    private var cache: [(key: [UInt8], directory: FileDescriptor)] = []

    init(path: String, lowers: LowerLayers, opaqueXattr: [UInt8]) throws {
        confined = try RootDirectory(opening: path, crossesMounts: false)
        merged = try MergedView(lowers: lowers, opaqueXattr: opaqueXattr)
    }

    func openInRoot(_ path: [UInt8], flags: Int32) -> Int32 {
        withCString(path) { confined.openRaw($0, flags) }
    }

    /// Forgets every cached directory. Called whenever something is removed or replaced, so a
    /// cached fd never points at a directory that was deleted or replaced by a symlink.
    func invalidate() {
        cache.removeAll(keepingCapacity: true)
    }

    private func lookup(_ key: [UInt8]) -> FileDescriptor? {
        guard let index = cache.lastIndex(where: { $0.key == key }) else { return nil }
        let hit = cache.remove(at: index)
        cache.append(hit)
        return hit.directory
    }

    func remember(_ path: EntryPath, _ directory: FileDescriptor) {
        remember(path.bytes, directory)
    }

    private func remember(_ key: [UInt8], _ directory: FileDescriptor) {
        if let index = cache.firstIndex(where: { $0.key == key }) { cache.remove(at: index) }
        if cache.count >= Self.cacheLimit { cache.removeFirst() }
        cache.append((key, directory))
    }

    /// The directory at `path`, resolved in-root. With `create`, missing components are made
    /// (tar streams need not list parents): as 0755 directories, or, where a lower layer has
    /// the directory, with that directory's metadata (`copiedUp`), as overlayfs's copy-up
    /// would. When the snapshot alone cannot resolve the path, it is resolved in the merged
    /// view of this snapshot over its lower layers (`MergedView`), so a parent that is a
    /// symlink in a lower layer is followed, still confined to the root.
    func directory(_ path: EntryPath, create: Bool) throws -> FileDescriptor {
        if path.isRoot { return root }
        let key = path.bytes
        if let hit = lookup(key) { return hit }
        // Every component found in this snapshot: the merged view resolves the same way
        // (the snapshot's nodes hide the lower layers'), in one call.
        if key.count <= Linux.resolveChunk {
            let fd = openInRoot(key, flags: O_PATH | O_DIRECTORY)
            if fd >= 0 {
                let directory = FileDescriptor(adopting: fd)
                remember(key, directory)
                return directory
            }
            guard errno == ENOENT || errno == ENOTDIR else { throw Self.resolveFailure(errno) }
        }
        let resolved = try merged.resolve(path, create: create, rooted: self)
        if !resolved.followedSymlink { remember(key, resolved.directory) }
        return resolved.directory
    }

    static func resolveFailure(_ code: Int32) -> Failure {
        let what: String
        switch code {
        case ENOTDIR: what = "resolve parent directory (a component is not a directory)"
        case ENOENT: what = "resolve parent directory (missing, or a dangling symlink)"
        case ELOOP: what = "resolve parent directory (too many symlinks)"
        case EXDEV: what = "resolve parent directory (crosses a mount point)"
        case ENOSYS: what = "openat2 (Linux 5.6 or later is required)"
        default: what = "openat2"
        }
        return Failure.system(what, errno: code)
    }

    /// The node at `name` in `directory`, or nil if there is none. Never follows a symlink.
    static func status(_ directory: FileDescriptor, _ name: [UInt8]) throws -> stat? {
        var info = stat()
        let result = withCString(name) { fstatat(directory.raw, $0, &info, AT_SYMLINK_NOFOLLOW) }
        if result == 0 { return info }
        if errno == ENOENT { return nil }
        throw Failure.system("fstatat")
    }

    /// Removes `name` from `directory`: a file, symlink or node is unlinked, a directory is
    /// removed with its whole subtree, fd-relative and without following symlinks.
    func remove(_ directory: FileDescriptor, _ name: [UInt8], _ info: stat) throws {
        invalidate()
        if info.st_mode & S_IFMT == S_IFDIR {
            let child = withCString(name) { openat(directory.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard child >= 0 else { throw Failure.system("openat") }
            try TreeWalker(root: FileDescriptor(adopting: child)).walk { event in
                switch event {
                case let .entry(visit):
                    guard withCString(visit.name, { unlinkat(visit.parent, $0, 0) }) == 0 else { throw Failure.system("unlinkat") }
                case .enter: break
                case let .leave(visit, _):
                    guard withCString(visit.name, { unlinkat(visit.parent, $0, AT_REMOVEDIR) }) == 0 else {
                        throw Failure.system("unlinkat")
                    }
                }
            }
            guard withCString(name, { unlinkat(directory.raw, $0, AT_REMOVEDIR) }) == 0 else { throw Failure.system("unlinkat") }
        } else {
            guard withCString(name, { unlinkat(directory.raw, $0, 0) }) == 0 else { throw Failure.system("unlinkat") }
        }
    }
}

extension stat {
    var isDirectory: Bool { st_mode & S_IFMT == S_IFDIR }
    var isSymlink: Bool { st_mode & S_IFMT == S_IFLNK }
    /// An overlayfs whiteout: a character device with device number 0:0.
    var isWhiteout: Bool { st_mode & S_IFMT == S_IFCHR && st_rdev == 0 }
}
