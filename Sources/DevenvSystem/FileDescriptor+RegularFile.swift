#if canImport(Glibc)
import Glibc
#endif

/// The one way to read a file a user, a project or an image controls (a manifest, a
/// Dockerfile, a lock file, an auth config, a file to copy or hash). Such a path may name a
/// FIFO (open(2) would wait for a writer forever), a device (/dev/zero never ends, a tape
/// rewinds when opened) or a directory, so: look first without opening, open with
/// O_NONBLOCK and O_NOCTTY, check again on the descriptor (the name may have been replaced
/// in between), bound the size, and only then read.
extension FileDescriptor {
    /// Opens the regular file at `path` for reading. `flags` may add O_NOFOLLOW (then a
    /// symlink is refused rather than followed). Files over `limit` bytes are refused.
    public static func openRegularFile(_ path: String, flags: Int32 = 0, limit: Int64? = nil, operation: String = "read") throws -> FileDescriptor {
        let follow = flags & O_NOFOLLOW == 0
        var info = Glibc.stat()
        guard fstatat(AT_FDCWD, path, &info, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError.last(operation, path: path) }
        try requireRegular(info, path: path, limit: limit, operation: operation)
        let file = try open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | flags)
        try requireRegular(try file.stat(), path: path, limit: limit, operation: operation)
        // Regular files ignore O_NONBLOCK today; clear it so no future read can see EAGAIN.
        let status = fcntl(file.raw, F_GETFL)
        guard status >= 0, fcntl(file.raw, F_SETFL, status & ~O_NONBLOCK) == 0 else { throw SystemError.last("fcntl", path: path) }
        return file
    }

    /// The whole regular file at `path`, at most `limit` bytes (else an error naming both).
    public static func readRegularFile(_ path: String, limit: Int, flags: Int32 = 0, operation: String = "read") throws -> [UInt8] {
        let file = try openRegularFile(path, flags: flags, limit: Int64(limit), operation: operation)
        let bytes = try file.readAll(limit: limit, path: path)
        // The file may have grown since fstat.
        guard bytes.count <= limit else { throw tooLarge(path, size: nil, limit: Int64(limit), operation: operation) }
        return bytes
    }

    /// As `readRegularFile`, but nil when nothing is at `path` (ENOENT, or ENOTDIR for a
    /// missing parent): for optional inputs such as a lock file. Any other problem throws.
    public static func readRegularFileIfPresent(_ path: String, limit: Int, flags: Int32 = 0, operation: String = "read") throws -> [UInt8]? {
        do {
            return try readRegularFile(path, limit: limit, flags: flags, operation: operation)
        } catch let error as SystemError where error.reason == nil && (error.errno == ENOENT || error.errno == ENOTDIR) {
            return nil
        }
    }

    /// What a file type is called in a message: "a FIFO", "a directory".
    public static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symlink"
        default: return "an unknown kind of file"
        }
    }

    private static func requireRegular(_ info: Glibc.stat, path: String, limit: Int64?, operation: String) throws {
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            let code = type == S_IFDIR ? EISDIR : type == S_IFLNK ? ELOOP : EINVAL
            throw SystemError(operation, path: path, errno: code, reason: "is \(kind(info.st_mode)), not a regular file")
        }
        if let limit, Int64(info.st_size) > limit {
            throw tooLarge(path, size: Int64(info.st_size), limit: limit, operation: operation)
        }
    }

    private static func tooLarge(_ path: String, size: Int64?, limit: Int64, operation: String) -> SystemError {
        let what = size.map { "is \($0) bytes" } ?? "grew while being read"
        return SystemError(operation, path: path, errno: EFBIG, reason: "\(what), more than the \(limit) bytes allowed for it")
    }
}
