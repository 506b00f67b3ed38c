#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock(2)` lock on a file. Locks die with their holder:
/// a SIGKILLed process never leaves a stale lock behind, unlike pid files.
public final class FileLock: @unchecked Sendable {
    public enum Mode { case shared, exclusive }

    private let descriptor: FileDescriptor
    public let path: String

    /// Opens (creating if needed) and locks `path`, blocking until the lock is free.
    /// `onWait` is called once if the lock is held by someone else, so the CLI can say so.
    public init(path: String, mode: Mode = .exclusive, onWait: (() -> Void)? = nil) throws {
        self.path = path
        descriptor = try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o600)
        let operation = mode == .exclusive ? LOCK_EX : LOCK_SH
        if flock(descriptor.raw, operation | LOCK_NB) == 0 { return }
        guard Glibc.errno == EWOULDBLOCK else { throw SystemError.last("flock", path: path) }
        onWait?()
        while flock(descriptor.raw, operation) != 0 {
            guard Glibc.errno == EINTR else { throw SystemError.last("flock", path: path) }
        }
    }

    /// Takes the lock only if it is free right now; nil when another process holds it.
    public static func attempt(path: String, mode: Mode = .exclusive) throws -> FileLock? {
        let descriptor = try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o600)
        let operation = mode == .exclusive ? LOCK_EX : LOCK_SH
        guard flock(descriptor.raw, operation | LOCK_NB) == 0 else {
            if Glibc.errno == EWOULDBLOCK { return nil }
            throw SystemError.last("flock", path: path)
        }
        return FileLock(descriptor: descriptor, path: path)
    }

    private init(descriptor: FileDescriptor, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Unlocks now instead of at deinit.
    public func unlock() { flock(descriptor.raw, LOCK_UN) }
}
