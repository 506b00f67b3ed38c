#if canImport(Glibc)
import Glibc
#endif

/// The part of repository discovery that libgit2 gets too lenient: finding the nearest
/// `.git` *file* above a directory, so a broken one is an error instead of being skipped.
enum GitDiscovery {
    /// The physical absolute path of an existing directory (symlinks resolved, as git's
    /// own discovery sees it).
    static func resolve(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            throw GitError("open repository", object: path, message: lastErrno())
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The closest directory at or above `start` whose `.git` is a file, provided no `.git`
    /// directory comes first and no file-system boundary is crossed (git's default).
    static func nearestGitFileDirectory(from start: String) throws -> String? {
        var directory = start
        var startInfo = stat()
        guard stat(start, &startInfo) == 0 else {
            throw GitError("open repository", object: start, message: lastErrno())
        }
        while true {
            var info = stat()
            let candidate = (directory == "/" ? "" : directory) + "/.git"
            if lstat(candidate, &info) == 0 {
                return (info.st_mode & S_IFMT) == S_IFREG ? directory : nil
            }
            guard directory != "/" else { return nil }
            let parent = parentDirectory(of: directory)
            var parentInfo = stat()
            guard stat(parent, &parentInfo) == 0, parentInfo.st_dev == startInfo.st_dev else { return nil }
            directory = parent
        }
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    private static func lastErrno() -> String {
        String(cString: strerror(errno)).lowercased()
    }
}
