#if canImport(Glibc)
import Glibc
#endif

/// A GrowingFile followed from another process, such as the user-namespace helper that
/// unpacks a rootless layer while it downloads. The writer's process forwards each
/// published length over a stream socket, then an end mark. The other process feeds its own
/// GrowingFile for the same path and reads the bytes from the file, as a reader here would.
/// Only lengths cross the socket, never the data. If the socket closes before the end mark
/// (the writer died or gave up), the follower's file is abandoned.
extension GrowingFile {
    /// The end mark: no length is negative.
    static let completeMark: Int64 = -1

    /// Forwards this file's published lengths to `socket` until it is complete. Returns
    /// false when the peer stopped reading (it hung up: its own error says why). Throws when
    /// the file is abandoned.
    public func forward(to socket: Int32) throws -> Bool {
        var offset: Int64 = 0
        while let length = try wait(past: offset) {
            guard Self.send(length, to: socket) else { return false }
            offset = length
        }
        return Self.send(Self.completeMark, to: socket)
    }

    /// A file at `path` whose published lengths come from `socket` (`forward`), fed by a
    /// thread of its own for the life of the process.
    public static func following(path: String, from socket: Int32) throws -> GrowingFile {
        let file = GrowingFile(path: path)
        try JoinableThread { feed(file, from: socket) }.detach()
        return file
    }

    private static func feed(_ file: GrowingFile, from socket: Int32) {
        while let value = receive(from: socket) {
            if value == completeMark {
                file.finish(.complete)
                return
            }
            file.published(length: value)
        }
        file.finish(.abandoned("the download stopped"))
    }

    /// Sends one length; false when the peer is gone (MSG_NOSIGNAL: EPIPE, not SIGPIPE).
    private static func send(_ value: Int64, to socket: Int32) -> Bool {
        var message = value.littleEndian
        var sent = 0
        while sent < MemoryLayout<Int64>.size {
            let count = withUnsafeBytes(of: &message) { bytes in
                Glibc.send(socket, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// One length; nil at the end of the stream, or on an error or a partial message.
    private static func receive(from socket: Int32) -> Int64? {
        var message: Int64 = 0
        var received = 0
        while received < MemoryLayout<Int64>.size {
            let count = withUnsafeMutableBytes(of: &message) { bytes in
                Glibc.read(socket, bytes.baseAddress! + received, bytes.count - received)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            received += count
        }
        return Int64(littleEndian: message)
    }
}
