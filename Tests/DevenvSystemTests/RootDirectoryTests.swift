import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The one confined open: a root's symlinks resolve inside it, whatever they say.
@Suite struct RootDirectoryTests {
    final class Tree {
        let path: String

        init() throws {
            var template = Array("/tmp/devenv-root-directory-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw SystemError.last("mkdtemp", path: "/tmp") }
            path = String(cString: made)
            guard mkdir(path + "/root", 0o755) == 0, mkdir(path + "/root/etc", 0o755) == 0, mkdir(path + "/outside", 0o755) == 0,
                  symlink("/etc", path + "/root/absolute") == 0, symlink("../../../../../outside", path + "/root/climbing") == 0,
                  symlink("../run/stub/resolv.conf", path + "/root/etc/resolv.conf") == 0 else {
                throw SystemError.last("populate", path: path)
            }
        }

        deinit { _ = try? FileManager.default.removeItem(atPath: path) }

        func root() throws -> RootDirectory { try RootDirectory(opening: path + "/root", crossesMounts: true) }
    }

    static func hostPath(_ descriptor: Int32) -> String {
        defer { close(descriptor) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(descriptorPath(descriptor), &buffer, buffer.count - 1)
        return String(decoding: buffer[0..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func symlinksResolveInsideTheRoot() throws {
        let tree = try Tree()
        let root = try tree.root()
        #expect(Self.hostPath(try #require(try root.open("/absolute", O_PATH | O_DIRECTORY))) == tree.path + "/root/etc")
        // `..` stops at the root: the host's `outside` is never reached.
        #expect(try root.open("/climbing", O_PATH) == nil)
        #expect(Self.hostPath(try root.ensureDirectory("/climbing/made")) == tree.path + "/root/outside/made")
        #expect(!FileManager.default.fileExists(atPath: tree.path + "/outside/made"))
    }

    @Test func danglingLinksAreFollowedWhenCreating() throws {
        let tree = try Tree()
        let root = try tree.root()
        #expect(try root.canonical("/etc/resolv.conf") == "/run/stub/resolv.conf")
        #expect(Self.hostPath(try root.ensureFile("/etc/resolv.conf")) == tree.path + "/root/run/stub/resolv.conf")
        #expect(try root.canonical("/../../etc/./x") == "/etc/x")
    }

    @Test func errorsNameThePathAsTheHostSeesIt() throws {
        let tree = try Tree()
        let root = try tree.root()
        #expect(FileManager.default.createFile(atPath: tree.path + "/root/file", contents: nil))
        let error = try #require(throws: SystemError.self) { _ = try root.open("/file/below", O_RDONLY) }
        #expect(error.errno == ENOTDIR && error.path == tree.path + "/root/file/below")
    }

    /// /proc/self/root and /proc/self/fd/N lead anywhere; a root with /proc in it must not follow them.
    @Test func magicLinksAreRefused() throws {
        let root = try RootDirectory(opening: "/", crossesMounts: true)
        let error = try #require(throws: SystemError.self) { _ = try root.open("/proc/self/root/etc", O_PATH) }
        #expect(error.errno == ELOOP)
        #expect(try root.open("/proc/self/status", O_PATH).map(close) != nil)
    }

    @Test func aRootThatMayNotCrossMountsRefusesThem() throws {
        let root = try RootDirectory(opening: "/", crossesMounts: false)
        // /proc is a mount of its own wherever these tests run.
        let error = try #require(throws: SystemError.self) { _ = try root.open("/proc/self", O_PATH) }
        #expect(error.errno == EXDEV)
    }
}

@Suite struct FileDescriptorTransferTests {
    @Test func readsAndWritesWholeThroughAPipe() throws {
        let (read, write) = try FileDescriptor.pipe()
        let bytes = (0..<50_000).map { UInt8(truncatingIfNeeded: $0) }
        try FileDescriptor.writeAll(write.raw, bytes)
        close(write.release())
        #expect(try FileDescriptor.readExactly(read.raw, count: 10) == Array(bytes[0..<10]))
        #expect(try read.readAll(limit: 100) == Array(bytes[10..<111]))
        #expect(try FileDescriptor.readAll(read.raw) == Array(bytes[111...]))
    }

    @Test func endOfInputBeforeTheCountIsAnError() throws {
        let (read, write) = try FileDescriptor.pipe()
        try write.writeAll([1, 2, 3])
        close(write.release())
        let error = try #require(throws: SystemError.self) { _ = try FileDescriptor.readExactly(read.raw, count: 4, path: "plan") }
        #expect(error.errno == EPIPE && error.path == "plan")
    }

    @Test func systemTextIsNilWhenUnreadable() {
        #expect(FileDescriptor.readSystemText("/proc/self/status")?.contains("Pid:") == true)
        #expect(FileDescriptor.readSystemText("/nonexistent/devenv") == nil)
    }
}
