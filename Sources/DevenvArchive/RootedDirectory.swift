import CDevenvShim
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// A directory that everything is confined to. Paths are resolved with
/// openat2(RESOLVE_IN_ROOT): symlinks, absolute or relative, resolve as if the root were `/`
/// (a chroot), so `localetc -> /etc` then `localetc/x` lands in `<root>/etc/x`
/// (RELIABILITY C2). Final components are then created with *at() calls that never follow
/// a symlink. Recently resolved parent directories are cached by path.
final class RootedDirectory {
    static let resolveFlags = UInt64(DEVENV_RESOLVE_IN_ROOT | DEVENV_RESOLVE_NO_MAGICLINKS | DEVENV_RESOLVE_NO_XDEV)
    static let cacheLimit = 16

    let root: FileDescriptor
    // Most recently used last. Entries are FileDescriptor objects, so an fd handed out stays
    // open while its user holds it, even if it is evicted meanwhile.
    private var cache: [(key: [UInt8], directory: FileDescriptor)] = []

    init(path: String) throws {
        root = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
    }

    static func openInRoot(_ base: Int32, _ path: [UInt8], flags: Int32) -> Int32 {
        withCString(path) { devenv_openat2(base, $0, UInt64(flags | O_CLOEXEC), 0, resolveFlags) }
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
    /// as 0755 directories (tar streams need not list parents). Paths longer than one openat2
    /// call can take are resolved in pieces, each piece in-root relative to the previous one:
    /// still confined, though an absolute symlink deep down then resolves from that piece.
    func directory(_ path: EntryPath, create: Bool) throws -> FileDescriptor {
        if path.isRoot { return root }
        let key = path.bytes
        if let hit = lookup(key) { return hit }
        let flags = Linux.O_PATH | O_DIRECTORY
        if key.count <= Linux.resolveChunk {
            let fd = Self.openInRoot(root.raw, key, flags: flags)
            if fd >= 0 {
                let directory = FileDescriptor(adopting: fd)
                remember(key, directory)
                return directory
            }
            guard errno == ENOENT && create else { throw Self.resolveFailure(errno) }
        }
        var current = root
        for index in path.components.indices {
            let prefix = EntryPath.join(path.components[...index])
            if let hit = lookup(prefix) {
                current = hit
                continue
            }
            let component = path.components[index]
            let open = { prefix.count <= Linux.resolveChunk
                ? Self.openInRoot(self.root.raw, prefix, flags: flags)
                : Self.openInRoot(current.raw, component, flags: flags) }
            var fd = open()
            if fd < 0 && errno == ENOENT && create {
                let made = withCString(component) { mkdirat(current.raw, $0, 0o755) }
                if made != 0 && errno != EEXIST { throw Failure.system("mkdirat") }
                fd = open()
            }
            guard fd >= 0 else { throw Self.resolveFailure(errno) }
            current = FileDescriptor(adopting: fd)
            remember(prefix, current)
        }
        return current
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
    /// An overlayfs whiteout: a character device with device number 0:0.
    var isWhiteout: Bool { st_mode & S_IFMT == S_IFCHR && st_rdev == 0 }
}
