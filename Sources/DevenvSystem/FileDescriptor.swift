import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// An owned file descriptor, closed exactly once when the value is released.
public final class FileDescriptor: @unchecked Sendable {
    public private(set) var raw: Int32

    public init(adopting raw: Int32) { self.raw = raw }

    deinit { if raw >= 0 { Glibc.close(raw) } }

    /// Gives up ownership; the caller must close the returned descriptor.
    public func release() -> Int32 {
        let value = raw
        raw = -1
        return value
    }

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = devenv_open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError.last("open", path: path) }
        return FileDescriptor(adopting: fd)
    }

    public func openat(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = devenv_openat(raw, path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError.last("openat", path: path) }
        return FileDescriptor(adopting: fd)
    }

    public func fsync() throws {
        guard Glibc.fsync(raw) == 0 else { throw SystemError.last("fsync") }
    }

    /// Writes all of `buffer`, retrying on short writes and EINTR.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, path: String? = nil) throws {
        try Self.writeAll(raw, buffer, path: path)
    }

    public func writeAll(_ bytes: [UInt8], path: String? = nil) throws {
        try Self.writeAll(raw, bytes, path: path)
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, path: String? = nil) throws -> Int {
        try Self.read(raw, into: buffer, path: path)
    }

    /// Reads from the current position to end of file, handing each chunk to `body` (the
    /// buffer is reused: copy what must outlive the call).
    public func readChunks(path: String? = nil, chunkSize: Int = 1 << 18, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try read(into: buffer, path: path)
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Reads until end of file or until more than `limit` bytes were read (then returns
    /// `limit + 1` bytes, so the caller can tell the file was too large).
    public func readAll(limit: Int, path: String? = nil) throws -> [UInt8] {
        try Self.readAll(raw, limit: limit, path: path)
    }

    public func stat() throws -> stat {
        var info = Glibc.stat()
        guard fstat(raw, &info) == 0 else { throw SystemError.last("fstat") }
        return info
    }
}
