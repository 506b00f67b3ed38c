@testable import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A GrowingFile followed across a socket (`forward` and `following`, what the rootless
/// unpack helper uses): the follower reads the writer's bytes as they are published, sees
/// the end only when the writer's file is complete, and is abandoned when the writer gives
/// up or goes away.
@Suite struct GrowingFileChannelTests {
    final class Setup {
        let directory = NSTemporaryDirectory() + "growing-channel-\(UUID().uuidString.prefix(8))"
        let writer: GrowingFile
        /// nil without a follower: its thread reads `childEnd` for as long as the socket is
        /// open, so a test that closes that end must have none (the thread's next read would
        /// take whatever descriptor got the number next, another test's).
        let follower: GrowingFile?
        let parentEnd: FileDescriptor
        let childEnd: FileDescriptor

        init(following: Bool = true) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            writer = GrowingFile(path: directory + "/blob")
            FileManager.default.createFile(atPath: writer.path, contents: nil)
            (parentEnd, childEnd) = try FileDescriptor.socketPair()
            follower = following ? try GrowingFile.following(path: writer.path, from: childEnd.raw) : nil
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// Appends `bytes` and publishes them.
        func append(_ bytes: [UInt8]) throws {
            let handle = try #require(FileHandle(forWritingAtPath: writer.path))
            try handle.seekToEnd()
            handle.write(Data(bytes))
            try handle.close()
            let size = try FileManager.default.attributesOfItem(atPath: writer.path)[.size] as? Int64 ?? 0
            writer.published(length: size)
        }

        /// Forwards on a thread of its own; the result arrives in the box.
        func forward() -> ResultBox {
            let box = ResultBox()
            let (writer, socket) = (self.writer, parentEnd.raw)
            Thread.detachNewThread { box.set(Result { try writer.forward(to: socket) }) }
            return box
        }
    }

    final class ResultBox: @unchecked Sendable {
        private let condition = NSCondition()
        private var value: Result<Bool, Error>?
        func set(_ result: Result<Bool, Error>) {
            condition.lock()
            value = result
            condition.broadcast()
            condition.unlock()
        }
        func wait() -> Result<Bool, Error>? {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date().addingTimeInterval(20)
            while value == nil, condition.wait(until: deadline) {}
            return value
        }
    }

    static func read(_ reader: GrowingFile.Reader, count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < count {
            let got = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if got == 0 { break }
            bytes += buffer[..<got]
        }
        return bytes
    }

    @Test func theFollowerReadsWhatIsPublishedAndEndsWhenTheFileIsComplete() throws {
        let setup = try Setup()
        let forwarded = setup.forward()
        let reader = try #require(setup.follower).reader()
        try setup.append(Array("first ".utf8))
        // Blocks until the length crossed the socket: the rest is not written yet.
        #expect(try Self.read(reader, count: 6) == Array("first ".utf8))
        try setup.append(Array("second".utf8))
        #expect(try Self.read(reader, count: 6) == Array("second".utf8))
        setup.writer.finish(.complete)
        var byte: UInt8 = 0
        #expect(try withUnsafeMutableBytes(of: &byte) { try reader.read(into: $0) } == 0)
        #expect(try forwarded.wait()?.get() == true)
    }

    @Test func anAbandonedFileAbandonsTheFollowerWhenTheSocketCloses() throws {
        let setup = try Setup()
        let forwarded = setup.forward()
        let reader = try #require(setup.follower).reader()
        try setup.append([1, 2, 3])
        #expect(try Self.read(reader, count: 3) == [1, 2, 3])
        setup.writer.finish(.abandoned("the blob was not verified"))
        #expect(throws: SystemError.self) { _ = try forwarded.wait()?.get() }
        // The writer's process closes its end (or dies): the follower never sees an end.
        close(setup.parentEnd.release())
        var byte: UInt8 = 0
        #expect(throws: SystemError.self) { _ = try withUnsafeMutableBytes(of: &byte) { try reader.read(into: $0) } }
    }

    @Test func forwardingStopsWhenTheFollowerHangsUp() throws {
        let setup = try Setup(following: false)
        close(setup.childEnd.release())
        let forwarded = setup.forward()
        try setup.append([1])
        #expect(try forwarded.wait()?.get() == false)
    }
}
