#if canImport(Glibc)
import Glibc
#endif

/// A file that one writer appends to while readers follow it, like `tail -f` with an end:
/// the writer publishes how many bytes are durable in the file and finally whether the file
/// is complete or abandoned. Readers block until bytes past their position are published.
/// Used to unpack a layer while it downloads: the download writes and hashes the ingest
/// file, the unpacker reads the same bytes back from the page cache.
public final class GrowingFile: @unchecked Sendable {
    public enum End: Sendable {
        case complete
        /// The writer gave up or started over; readers stop with this reason.
        case abandoned(String)
    }

    public let path: String
    private let condition = Condition()
    private var length: Int64 = 0
    private var end: End?

    public init(path: String) { self.path = path }

    /// Bytes `0..<length` are in the file and will not change.
    public func published(length: Int64) {
        condition.lock()
        if end == nil && length > self.length {
            self.length = length
            condition.broadcast()
        }
        condition.unlock()
    }

    /// No more bytes will come. The first end wins.
    public func finish(_ end: End) {
        condition.lock()
        if self.end == nil { self.end = end }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until bytes past `offset` are published or the file ended; returns the
    /// published length, or nil when it is complete at `offset`. Throws when abandoned.
    public func wait(past offset: Int64) throws -> Int64? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case let .abandoned(reason)? = end {
                throw SystemError("follow growing file (\(reason))", path: path, errno: ECANCELED)
            }
            if length > offset { return length }
            if end != nil { return nil }
            condition.wait()
        }
    }

    /// A reader from byte 0. It opens its own descriptor.
    public func reader() throws -> Reader {
        Reader(file: self, descriptor: try FileDescriptor.open(path, O_RDONLY))
    }

    public final class Reader {
        private let file: GrowingFile
        private let descriptor: FileDescriptor
        private var offset: Int64 = 0

        init(file: GrowingFile, descriptor: FileDescriptor) {
            self.file = file
            self.descriptor = descriptor
        }

        /// Reads up to `buffer.count` published bytes, blocking until there are some;
        /// 0 at the end of a complete file. Throws when the writer abandoned the file.
        public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard let available = try file.wait(past: offset) else { return 0 }
            let wanted = Int(min(Int64(buffer.count), available - offset))
            while true {
                let count = pread(descriptor.raw, buffer.baseAddress, wanted, off_t(offset))
                if count > 0 {
                    offset += Int64(count)
                    return count
                }
                if count < 0 && Glibc.errno == EINTR { continue }
                // Published bytes are never missing unless someone truncated the file.
                throw count < 0 ? SystemError.last("pread", path: file.path)
                    : SystemError("pread (file shorter than published)", path: file.path, errno: EIO)
            }
        }
    }
}
