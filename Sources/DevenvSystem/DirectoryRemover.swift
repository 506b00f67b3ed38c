import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Removes a directory tree without ever following a symlink out of it: every step is
/// relative to an fd opened with O_NOFOLLOW, so a hostile tree (a snapshot made from an
/// image) cannot redirect deletion to the host.
public enum DirectoryRemover {
    /// Removes `path` and everything below it. A missing path is not an error. When
    /// permissions stop the caller (a rootless build's upper directory holds directories of
    /// subordinate ids, mode 0700 or 0000) and a `permissionFallback` is installed, the tree
    /// is removed through it instead.
    public static func remove(_ path: String) throws {
        do {
            try removeAsCaller(path)
        } catch let error as SystemError where error.errno == EACCES || error.errno == EPERM {
            guard let fallback = permissionFallback else { throw error }
            try fallback(path)
        }
    }

    /// Removes `path` with the caller's own permissions only (what a permission fallback
    /// runs once it has the privileges).
    public static func removeAsCaller(_ path: String) throws {
        let parentPath = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        let parent = try FileDescriptor.open(parentPath, O_RDONLY | O_DIRECTORY)
        try removeEntry(name, in: parent.raw, displayPath: path)
    }

    private static let fallbackLock = Lock()
    nonisolated(unsafe) private static var installedFallback: (@Sendable (String) throws -> Void)?

    /// How to remove a tree the caller's permissions cannot: a rootless devenv removes it
    /// from inside its user namespace, where every id the tree's files have is mapped
    /// (installed once by the command line; nil: permission errors are thrown).
    public static var permissionFallback: (@Sendable (String) throws -> Void)? {
        get {
            fallbackLock.lock()
            defer { fallbackLock.unlock() }
            return installedFallback
        }
        set {
            fallbackLock.lock()
            defer { fallbackLock.unlock() }
            installedFallback = newValue
        }
    }

    /// Removes every entry inside `directory`, leaving it empty.
    public static func removeContents(of directory: Int32, displayPath: String) throws {
        guard let stream = fdopendir(dup(directory)) else { throw SystemError.last("fdopendir", path: displayPath) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names {
            try removeEntry(name, in: directory, displayPath: "\(displayPath)/\(name)")
        }
    }

    private static func removeEntry(_ name: String, in parent: Int32, displayPath: String) throws {
        if unlinkat(parent, name, 0) == 0 { return }
        let unlinkErrno = errno
        switch unlinkErrno {
        case ENOENT: return
        case EISDIR, EPERM: break
        default: throw SystemError.last("unlink", path: displayPath)
        }
        let fd = devenv_openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        if fd < 0 {
            guard errno == EACCES else {
                if errno == ENOENT { return }
                // Not a directory: the EPERM was unlink's own (a sticky directory of another
                // owner, a rootless image's /tmp), which a permission fallback can get past.
                if errno == ENOTDIR && unlinkErrno == EPERM { throw SystemError("unlink", path: displayPath, errno: EPERM) }
                throw SystemError.last("open directory", path: displayPath)
            }
            // An empty directory goes without being opened: removing it needs only write
            // permission on the parent (overlay leaves its work/work as an empty mode-0000
            // directory of the namespace's root, which the user cannot chmod).
            if unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT { return }
            // Search permission may be missing on directories copied from images (mode 0555
            // or 0000); grant it to ourselves and retry once.
            guard fchmodat(parent, name, 0o700, 0) == 0 else {
                throw SystemError.last("open directory", path: displayPath)
            }
            return try removeEntry(name, in: parent, displayPath: displayPath)
        }
        let directory = FileDescriptor(adopting: fd)
        fchmod(directory.raw, 0o700)
        try removeContents(of: directory.raw, displayPath: displayPath)
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw SystemError.last("rmdir", path: displayPath)
        }
    }
}
