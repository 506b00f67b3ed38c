import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The unix socket a `NetworkHolder` listens on: every container of the private network keeps
/// one connection to it for its whole life (its init holds it, like the store lease), so the
/// holder sees exactly when the last one is gone: the kernel closes the connection of a
/// process that died in any way. The path is reached through a directory descriptor, so a
/// long store path never exceeds sockaddr_un's 108 bytes.
enum Lifeline {
    /// A listening socket at `path` (a stale one from a killed holder is replaced).
    static func listen(at path: String) throws -> Int32 {
        try withAddress(path, create: true) { socket, address, length in
            guard Glibc.bind(socket, address, length) == 0 else { throw RuntimeError.setup(SystemError.last("bind", path: path)) }
            guard Glibc.listen(socket, 64) == 0 else { throw RuntimeError.setup(SystemError.last("listen", path: path)) }
        }
    }

    /// A connection to the holder listening at `path`.
    static func connect(to path: String) throws -> Int32 {
        try withAddress(path, create: false) { socket, address, length in
            guard Glibc.connect(socket, address, length) == 0 else {
                throw RuntimeError(.setup, "join the project network: connect to its holder at \(Errno.quote(path)): \(Errno.message(errno))")
            }
        }
    }

    private static func withAddress(_ path: String, create: Bool,
                                    _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) throws -> Void) throws -> Int32 {
        let directory = try RuntimeError.wrapSetup {
            try FileDescriptor.openRaw(PathName.parent(path), O_PATH | O_DIRECTORY, operation: "open the project network's directory")
        }
        defer { close(directory) }
        let name = String(path.split(separator: "/").last ?? "")
        if create { _ = unlinkat(directory, name, 0) }
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw RuntimeError.setup(SystemError.last("socket")) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let short = Array("/proc/self/fd/\(directory)/\(name)".utf8)
        guard short.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(socket)
            throw RuntimeError.invalid("project network socket name \(Errno.quote(name)) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: short)
            raw[short.count] = 0
        }
        do {
            try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        } catch {
            close(socket)
            throw error
        }
        return socket
    }
}
