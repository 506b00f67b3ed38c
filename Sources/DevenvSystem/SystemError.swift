import DevenvText
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, named the way crun names them: the operation, the object and the
/// errno, e.g. `mount overlay on /run/x/rootfs: invalid argument (EINVAL)`.
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String?
    public let errno: Int32
    public let hint: String?
    /// Said instead of the errno's text when the call succeeded but what it found is wrong
    /// (`is a FIFO, not a regular file`); `errno` is then the closest code, for callers.
    public let reason: String?

    public init(_ operation: String, path: String? = nil, errno: Int32, hint: String? = nil, reason: String? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.hint = hint
        self.reason = reason
    }

    /// Captures the current `errno` for `operation`.
    public static func last(_ operation: String, path: String? = nil) -> SystemError {
        SystemError(operation, path: path, errno: Glibc.errno)
    }

    public var description: String {
        var text = operation
        if let path { text += " \(Errno.quote(path))" }
        if let reason {
            text += ": \(reason)"
        } else {
            text += ": \(Errno.message(errno)) (\(Errno.name(errno)))"
        }
        if let hint { text += "\nhint: \(hint)" }
        return text
    }
}

public enum Errno {
    public static func message(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }

    public static func name(_ code: Int32) -> String {
        names[code] ?? "errno \(code)"
    }

    /// A path for a message, escaped, and quoted when it is empty or has a space.
    public static func quote(_ path: String) -> String {
        let out = Printable.escape(path)
        return out.contains(" ") || out.isEmpty ? "'\(out)'" : out
    }

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
        E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
        ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
        ELOOP: "ELOOP", ENODATA: "ENODATA", EOPNOTSUPP: "EOPNOTSUPP", EAFNOSUPPORT: "EAFNOSUPPORT",
        ECONNREFUSED: "ECONNREFUSED", ETIMEDOUT: "ETIMEDOUT", EDQUOT: "EDQUOT", EOVERFLOW: "EOVERFLOW",
        EILSEQ: "EILSEQ", ENOTCONN: "ENOTCONN", ECONNRESET: "ECONNRESET",
    ]
}
