import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Calls on raw descriptors for code that manages them by hand (container setup keeps plain
/// `Int32`s: no object per descriptor on the start path). Each failure names the operation.
extension FileDescriptor {
    /// open(2) (variadic in C), close-on-exec; the caller closes the result.
    /// `operation` is only built when the call fails: callers name the object in it, and
    /// escaping it for every open on a start's hot path cost more than the opens.
    public static func openRaw(_ path: String, _ flags: Int32, mode: mode_t = 0, operation: @autoclosure () -> String = "open") throws -> Int32 {
        let descriptor = devenv_open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw SystemError.last(operation(), path: path) }
        return descriptor
    }

    /// openat(2) of one name in `directory`, close-on-exec: the descriptor, or -1 with errno
    /// (for callers that handle EEXIST and the like).
    public static func openRaw(in directory: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32, mode: mode_t = 0) -> Int32 {
        devenv_openat(directory, name, flags | O_CLOEXEC, mode)
    }

    /// A pipe, both ends close-on-exec from the start (other threads may fork at any moment).
    public static func pipe(operation: String = "pipe") throws -> (read: FileDescriptor, write: FileDescriptor) {
        var ends: [Int32] = [-1, -1]
        guard devenv_pipe_cloexec(&ends) == 0 else { throw SystemError.last(operation) }
        return (FileDescriptor(adopting: ends[0]), FileDescriptor(adopting: ends[1]))
    }

    /// A connected pair of unix stream sockets, both close-on-exec.
    public static func socketPair(operation: String = "socketpair") throws -> (FileDescriptor, FileDescriptor) {
        var ends: [Int32] = [-1, -1]
        guard devenv_socketpair_cloexec(&ends) == 0 else { throw SystemError.last(operation) }
        return (FileDescriptor(adopting: ends[0]), FileDescriptor(adopting: ends[1]))
    }

    /// Sets O_NONBLOCK (the other status flags are dropped, as devenv's descriptors have none).
    @discardableResult
    public static func setNonBlocking(_ descriptor: Int32) -> Bool { devenv_fcntl_int(descriptor, F_SETFL, O_NONBLOCK) == 0 }

    /// Marks every descriptor from `first` on close-on-exec (close_range(2)).
    @discardableResult
    public static func closeOnExec(from first: UInt32) -> Bool { devenv_close_range(first, UInt32.max, 4) == 0 }

    /// Sends `descriptor` over a unix socket (SCM_RIGHTS).
    public static func send(_ descriptor: Int32, over socket: Int32, operation: String) throws {
        guard devenv_send_fd(socket, descriptor) == 0 else { throw SystemError.last(operation) }
    }

    /// A descriptor received over a unix socket (SCM_RIGHTS); -1 with errno.
    public static func receive(over socket: Int32) -> Int32 { devenv_recv_fd(socket) }

    /// syncfs(2): everything written to the filesystem holding this descriptor, on disk.
    public func syncFilesystem() throws {
        guard devenv_syncfs(raw) == 0 else { throw SystemError.last("syncfs") }
    }
}
