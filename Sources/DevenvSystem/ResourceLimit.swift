import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// getrlimit(2)/setrlimit(2) with plain integers; RLIM_INFINITY is UInt64.max.
public enum ResourceLimit {
    public static let processes = Int32(DEVENV_RLIMIT_NPROC)
    public static let openFiles = Int32(DEVENV_RLIMIT_NOFILE)

    public static func name(_ resource: Int32) -> String { resource == processes ? "RLIMIT_NPROC" : "RLIMIT_NOFILE" }

    /// The current limits, or unlimited when they cannot be read.
    public static func current(_ resource: Int32) -> (soft: UInt64, hard: UInt64) {
        var limits = (soft: UInt64.max, hard: UInt64.max)
        _ = devenv_getrlimit(resource, &limits.soft, &limits.hard)
        return limits
    }

    public static func set(_ resource: Int32, soft: UInt64, hard: UInt64) throws {
        guard devenv_setrlimit(resource, soft, hard) == 0 else { throw SystemError.last("setrlimit \(name(resource)) \(soft)") }
    }
}
