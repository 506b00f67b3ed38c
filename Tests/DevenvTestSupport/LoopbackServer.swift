import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on 127.0.0.1 with a free port, one handler call per connection on its own
/// thread. `stop()` closes the listener and every open connection, so handlers blocked on a
/// stalled peer return; tests stop every server they start.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var open: [Int32: WireConnection] = [:]
    private var stopped = false
    private let finished = DispatchGroup()
    private let handler: @Sendable (WireConnection) -> Void

    init(handler: @escaping @Sendable (WireConnection) -> Void) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw TestFailure("bind/listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        finished.enter()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    var authority: String { "127.0.0.1:\(port)" }

    private func acceptLoop() {
        defer { finished.leave() }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let connection = WireConnection(fd: client)
            lock.lock()
            if stopped { lock.unlock(); connection.closeQuietly(); return }
            open[client] = connection
            lock.unlock()
            finished.enter()
            Thread.detachNewThread { [self] in
                handler(connection)
                lock.lock()
                open[client] = nil
                lock.unlock()
                connection.closeQuietly()
                finished.leave()
            }
        }
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func stop() {
        lock.lock()
        if stopped { lock.unlock(); return }
        stopped = true
        let connections = open
        open.removeAll()
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        // Shut down only: each handler thread closes its own descriptor when it returns.
        for connection in connections.values { connection.shutdownBoth() }
        _ = finished.wait(timeout: .now() + 5)
    }

    /// Sleeps up to `seconds`, returning early once the server is stopped.
    func hold(_ seconds: TimeInterval) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && !isStopped { Thread.sleep(forTimeInterval: 0.02) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One accepted connection with buffered reads and HTTP/1.1 request parsing.
final class WireConnection: @unchecked Sendable {
    let fd: Int32
    private var buffer = [UInt8]()

    init(fd: Int32) { self.fd = fd }

    struct Request {
        var method: String
        var target: String
        var headers: [String: String]
        var rawHeaders: [(String, String)]
        var body: Data

        var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
        var query: [String: [String]] {
            var result: [String: [String]] = [:]
            for item in URLComponents(string: "http://x\(target)")?.queryItems ?? [] {
                result[item.name, default: []].append(item.value ?? "")
            }
            return result
        }
    }

    /// Reads one request (headers, then a Content-Length or chunked body); nil at EOF.
    func readRequest() -> Request? {
        guard let head = readHead() else { return nil }
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        var raw: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name.lowercased()] = value
            raw.append((name, value))
        }
        var body = Data()
        if let length = headers["content-length"].flatMap(Int.init), length > 0 {
            guard let bytes = readExactly(length) else { return nil }
            body = Data(bytes)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            guard let decoded = readChunked() else { return nil }
            body = decoded
        }
        return Request(method: String(parts[0]), target: String(parts[1]), headers: headers, rawHeaders: raw, body: body)
    }

    /// Reads everything to EOF (for upstream responses sent with Connection: close).
    func readToEnd() -> [UInt8] {
        var out = buffer
        buffer.removeAll()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            out.append(contentsOf: chunk[0..<count])
        }
        return out
    }

    func readHead() -> String? {
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return head
            }
            guard fill() else { return nil }
        }
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        while buffer.count < count { guard fill() else { return nil } }
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    private func readLine() -> String? {
        while true {
            if let end = find([13, 10]) {
                let line = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            guard fill() else { return nil }
        }
    }

    private func readChunked() -> Data? {
        var out = Data()
        while true {
            guard let line = readLine(), let size = Int(line.split(separator: ";")[0], radix: 16) else { return nil }
            if size == 0 { _ = readLine(); return out }
            guard let bytes = readExactly(size) else { return nil }
            out.append(contentsOf: bytes)
            _ = readLine()
        }
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for index in 0...(buffer.count - pattern.count) where buffer[index] == pattern[0] {
            if Array(buffer[index..<(index + pattern.count)]) == pattern { return index }
        }
        return nil
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    @discardableResult
    func write(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Data(text.utf8)) }

    /// Writes a complete response with Content-Length.
    @discardableResult
    func respond(status: Int, reason: String = "", headers: [String: String] = [:], body: Data = Data(), head: Bool = false) -> Bool {
        var text = "HTTP/1.1 \(status) \(reason.isEmpty ? Self.reason(status) : reason)\r\n"
        var all = headers
        if all.keys.first(where: { $0.lowercased() == "content-length" }) == nil { all["Content-Length"] = String(body.count) }
        all["Connection"] = "close"
        for (name, value) in all.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return write(Data(text.utf8) + (head ? Data() : body))
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 206: return "Partial Content"
        case 307: return "Temporary Redirect"
        case 401: return "Unauthorized"
        case 404: return "Not Found"
        case 429: return "Too Many Requests"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    private let stateLock = NSLock()
    private var closed = false

    /// Closes with a TCP RST instead of a FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        closeQuietly()
    }

    /// Idempotent, so the descriptor number is never closed twice (it may be reused).
    func closeQuietly() {
        stateLock.lock()
        defer { stateLock.unlock() }
        if !closed { closed = true; close(fd) }
    }

    func shutdownBoth() {
        stateLock.lock()
        defer { stateLock.unlock() }
        if !closed { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
