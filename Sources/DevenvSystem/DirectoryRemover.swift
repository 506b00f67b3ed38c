import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Removes a directory tree without ever following a symlink out of it: every step is
/// relative to an fd opened with O_NOFOLLOW, so a hostile tree (a snapshot made from an
/// image) cannot redirect deletion to the host.
public enum DirectoryRemover {
    /// Removes `path` and everything below it. A missing path is not an error.
    public static func remove(_ path: String) throws {
        let parentPath = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        let parent = try FileDescriptor.open(parentPath, O_RDONLY | O_DIRECTORY)
        try removeEntry(name, in: parent.raw, displayPath: path)
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
        switch errno {
        case ENOENT: return
        case EISDIR, EPERM: break
        default: throw SystemError.last("unlink", path: displayPath)
        }
        let fd = devenv_openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        if fd < 0 {
            // Search permission may be missing on directories copied from images (mode 0555
            // or 0000); grant it to ourselves and retry once.
            guard errno == EACCES, fchmodat(parent, name, 0o700, 0) == 0 else {
                if errno == ENOENT { return }
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
