#if canImport(Glibc)
import Glibc
#endif

/// The one implementation of whole reads and writes, on raw descriptors (container setup
/// and init keep plain `Int32`s) and, through the methods, on `FileDescriptor`s: short
/// transfers continue, EINTR retries, and a failure names the operation and path.
extension FileDescriptor {
    /// Reads up to `buffer.count` bytes; 0 means end of file.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String? = nil) throws -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if Glibc.errno == EINTR { continue }
            throw SystemError.last("read", path: path)
        }
    }

    /// Reads to end of input; with a `limit`, stops once more than `limit` bytes were read
    /// (then returns `limit + 1` bytes, so the caller can tell the input was too large).
    public static func readAll(_ descriptor: Int32, limit: Int? = nil, path: String? = nil) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while limit.map({ bytes.count <= $0 }) ?? true {
            let wanted = limit.map { min(chunk.count, $0 + 1 - bytes.count) } ?? chunk.count
            let count = try chunk.withUnsafeMutableBytes { try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted]), path: path) }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }

    /// Exactly `count` bytes; end of input before them is an error (EPIPE).
    public static func readExactly(_ descriptor: Int32, count: Int, path: String? = nil) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = try bytes.withUnsafeMutableBytes { try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[offset...]), path: path) }
            if got == 0 { throw SystemError("read", path: path, errno: EPIPE) }
            offset += got
        }
        return bytes
    }

    /// Writes all of `buffer`, retrying on short writes and EINTR.
    public static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, path: String? = nil) throws {
        guard var pointer = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = Glibc.write(descriptor, pointer, remaining)
            if written < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError.last("write", path: path)
            }
            pointer += written
            remaining -= written
        }
    }

    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String? = nil) throws {
        try bytes.withUnsafeBytes { (buffer) throws in try writeAll(descriptor, buffer, path: path) }
    }

    /// A small text file the system provides (/proc, /sys, /etc/hosts), whole; nil when it
    /// cannot be read. Not for files a user or an image controls (`readRegularFile`).
    public static func readSystemText(_ path: String) -> String? {
        guard let descriptor = try? openRaw(path, O_RDONLY) else { return nil }
        defer { close(descriptor) }
        guard let bytes = try? readAll(descriptor) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
