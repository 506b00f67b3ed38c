#if canImport(Glibc)
import Glibc
#endif

/// TCP on 127.0.0.1 of the calling thread's network namespace: where services listen with the
/// host network, and both ends of a private network's forwarded ports.
public enum LoopbackSocket {
    /// A socket bound to 127.0.0.1:`port` (SO_REUSEADDR), not listening yet.
    public static func bind(_ port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw SystemError.last("socket") }
        var on: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = address(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = SystemError.last("bind 127.0.0.1:\(port)")
            close(socket)
            throw error
        }
        return socket
    }

    /// A connection to 127.0.0.1:`port`, or nil when nothing accepts. On loopback the
    /// handshake completes inside connect, so blocking costs nothing.
    public static func connect(_ port: Int) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = address(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
        return socket
    }

    /// Whether a new listener could bind 127.0.0.1:`port` now.
    public static func isFree(_ port: Int) -> Bool {
        guard let socket = try? bind(port) else { return false }
        close(socket)
        return true
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    public static func accepts(_ port: Int) -> Bool {
        guard let socket = connect(port) else { return false }
        close(socket)
        return true
    }

    static func address(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }
}
