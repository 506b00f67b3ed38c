import CDevenvShim
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Thin throwing wrappers over the calls setup needs; each error names the call and object.
enum Syscall {
    static let msBind: UInt = 4096
    static let msRec: UInt = 16384
    static let msPrivate: UInt = 1 << 18
    static let msRemount: UInt = 32
    static let mntDetach: Int32 = 2
    static let atEmptyPath: Int32 = 0x1000

    static func mount(_ source: String?, _ target: String, type: String?, flags: UInt, data: String?, describe: String) throws {
        guard devenv_mount(source, target, type, flags, data) == 0 else { throw SystemError.last(describe) }
    }

    /// A path naming an open descriptor, so mount(2) acts on exactly what was resolved.
    static func fdPath(_ descriptor: Int32) -> String { "/proc/self/fd/\(descriptor)" }

    /// Adds `flags` to the mount at `descriptor` and every mount below it, with
    /// mount_setattr(2). Before Linux 5.12 only the top mount can be remounted (keeping the
    /// flags a user namespace locks).
    static func restrict(_ descriptor: Int32, _ flags: MountFlags, describe: String) throws {
        if devenv_mount_setattr(descriptor, "", UInt32(atEmptyPath) | UInt32(DEVENV_AT_RECURSIVE), UInt64(flags.systemFlags), 0) == 0 { return }
        guard errno == ENOSYS else { throw SystemError.last(describe) }
        var info = statvfs()
        guard fstatvfs(descriptor, &info) == 0 else { throw SystemError.last(describe) }
        let kept = UInt(info.f_flag) & (1 | 2 | 4 | 8 | 1024 | 2048) // ro nosuid nodev noexec noatime nodiratime
        try mount(nil, fdPath(descriptor), type: nil, flags: msBind | msRemount | flags.systemFlags | kept, data: nil, describe: describe)
    }

    static func readAll(_ descriptor: Int32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.last("read")
            }
            bytes += buffer[0..<count]
        }
    }

    /// Exactly `count` bytes; fewer before end of input is an error.
    static func readExactly(_ descriptor: Int32, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + offset, count - offset) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw SystemError.last("read") }
            if got == 0 { throw SystemError("read", path: nil, errno: EPIPE) }
            offset += got
        }
        return bytes
    }

    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.last("write")
            }
            offset += count
        }
    }

    /// Reads a small text file whole; nil when it cannot be read.
    static func readText(_ path: String) -> String? {
        let descriptor = devenv_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard let bytes = try? readAll(descriptor) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
