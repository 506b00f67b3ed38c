@testable import DevenvTestSupport
import Foundation

/// An HTTP proxy on loopback in front of a real registry that injects faults into chosen
/// responses: flipped bytes, lying headers, connections dropped
/// after N body bytes (RST, FIN, or an early end of a chunked body), stalls, drips, and
/// canned responses. One request per connection; upstream is read whole, then replayed.
final class FaultProxy: @unchecked Sendable {
    enum Drop { case reset, fin, chunkedEarly }

    enum Fault {
        case respond(status: Int, headers: [String: String], body: Data)
        case flipByte(at: Int)
        case header(String, String)
        case dropAfter(bytes: Int, Drop)
        /// Accept and never answer.
        case stall
        /// Send the head, then one byte every `interval`.
        case drip(interval: TimeInterval)
        /// Forward without the Range header, as a server that ignores it.
        case ignoreRange
        case redirect(to: String)
        /// Send the head and `bytes` of the body, then wait (at most `timeout`) until
        /// `until` says so, then send the rest, or with `then` drop the connection instead.
        case pauseAfter(bytes: Int, until: @Sendable () -> Bool, timeout: TimeInterval = 60, then: Drop? = nil)
    }

    /// Faults for a request; `count` is how many requests with this method and path the
    /// proxy has seen, this one included.
    typealias Rule = @Sendable (_ request: WireConnection.Request, _ count: Int) -> [Fault]

    private let upstream: UInt16
    private let rule: Rule
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var log: [(method: String, target: String, headers: [String: String])] = []
    private var server: LoopbackServer?

    init(upstream: UInt16, rule: @escaping Rule = { _, _ in [] }) throws {
        self.upstream = upstream
        self.rule = rule
        server = try LoopbackServer { [unowned self] connection in handle(connection) }
    }

    deinit { stop() }

    var authority: String { "127.0.0.1:\(server?.port ?? 0)" }

    func stop() { server?.stop() }

    /// Requests seen whose method matches and whose target contains `fragment`.
    func count(_ method: String, _ fragment: String = "") -> Int {
        lock.lock()
        defer { lock.unlock() }
        return log.filter { $0.method == method && (fragment.isEmpty || $0.target.contains(fragment)) }.count
    }

    func requests(_ method: String, _ fragment: String = "") -> [[String: String]] {
        lock.lock()
        defer { lock.unlock() }
        return log.filter { $0.method == method && (fragment.isEmpty || $0.target.contains(fragment)) }.map(\.headers)
    }

    private func handle(_ connection: WireConnection) {
        guard let request = connection.readRequest() else { return }
        lock.lock()
        let key = "\(request.method) \(request.path)"
        counts[key, default: 0] += 1
        let count = counts[key]!
        log.append((request.method, request.target, request.headers))
        lock.unlock()
        let faults = rule(request, count)
        for fault in faults {
            switch fault {
            case .stall:
                server?.hold(120)
                return
            case let .respond(status, headers, body):
                connection.respond(status: status, headers: headers, body: body, head: request.method == "HEAD")
                return
            case let .redirect(location):
                connection.respond(status: 307, headers: ["Location": location])
                return
            default:
                continue
            }
        }
        guard var response = forward(request, dropRange: faults.contains { if case .ignoreRange = $0 { return true }; return false }) else {
            connection.respond(status: 502, body: Data("upstream failed".utf8))
            return
        }
        for fault in faults {
            switch fault {
            case let .flipByte(index) where index < response.body.count:
                response.body[index] ^= 0x01
            case let .header(name, value):
                response.headers.removeAll { $0.0.lowercased() == name.lowercased() }
                response.headers.append((name, value))
            default:
                break
            }
        }
        let isHead = request.method == "HEAD"
        var head = "HTTP/1.1 \(response.status) \(WireConnection.reason(response.status))\r\n"
        let chunked = faults.contains { if case .dropAfter(_, .chunkedEarly) = $0 { return true }; return false }
        for (name, value) in response.headers where !["connection", "transfer-encoding", "content-length"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if chunked {
            head += "Transfer-Encoding: chunked\r\n"
        } else {
            head += "Content-Length: \(isHead ? response.upstreamLength ?? 0 : response.body.count)\r\n"
        }
        head += "Connection: close\r\n\r\n"
        for fault in faults {
            if case let .dropAfter(bytes, how) = fault {
                connection.write(head)
                let part = response.body.prefix(bytes)
                if how == .chunkedEarly {
                    connection.write(String(part.count, radix: 16) + "\r\n")
                    connection.write(Data(part))
                    connection.write("\r\n")
                } else {
                    connection.write(Data(part))
                }
                Thread.sleep(forTimeInterval: 0.05)
                if how == .reset { connection.reset() } else { connection.closeQuietly() }
                return
            }
            if case let .pauseAfter(bytes, until, timeout, then) = fault {
                connection.write(head)
                connection.write(Data(response.body.prefix(bytes)))
                let deadline = Date().addingTimeInterval(timeout)
                while !until(), Date() < deadline, !(server?.isStopped ?? true) { Thread.sleep(forTimeInterval: 0.01) }
                switch then {
                case .reset?: connection.reset()
                case .some: connection.closeQuietly()
                case nil: connection.write(Data(response.body.dropFirst(bytes)))
                }
                return
            }
            if case let .drip(interval) = fault {
                connection.write(head)
                for byte in response.body {
                    guard connection.write(Data([byte])) else { return }
                    server?.hold(interval)
                    if server?.isStopped ?? true { return }
                }
                return
            }
        }
        connection.write(Data(head.utf8) + (isHead ? Data() : response.body))
    }

    private struct Upstream {
        var status: Int
        var headers: [(String, String)]
        var body: Data
        var upstreamLength: Int?
    }

    private func forward(_ request: WireConnection.Request, dropRange: Bool) -> Upstream? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = upstream.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connection = WireConnection(fd: fd)
        defer { connection.closeQuietly() }
        guard connected == 0 else { return nil }
        // The client's Host goes upstream so the registry's Location headers point back here.
        var text = "\(request.method) \(request.target) HTTP/1.1\r\nHost: \(request.headers["host"] ?? "127.0.0.1:\(upstream)")\r\nConnection: close\r\n"
        for (name, value) in request.rawHeaders {
            let lower = name.lowercased()
            if ["host", "connection", "content-length", "transfer-encoding", "expect", "keep-alive"].contains(lower) { continue }
            if lower == "range" && dropRange { continue }
            text += "\(name): \(value)\r\n"
        }
        if !request.body.isEmpty || ["PUT", "PATCH", "POST"].contains(request.method) {
            text += "Content-Length: \(request.body.count)\r\n"
        }
        text += "\r\n"
        guard connection.write(Data(text.utf8) + request.body) else { return nil }
        guard let responseHead = connection.readHead() else { return nil }
        let rest = Data(connection.readToEnd())
        let lines = responseHead.components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        var headers: [(String, String)] = []
        var chunked = false
        var length: Int?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
            if name.lowercased() == "content-length" { length = Int(value) }
            headers.append((name, value))
        }
        return Upstream(status: status, headers: headers, body: chunked ? Self.dechunk(rest) : rest, upstreamLength: length)
    }

    private static func dechunk(_ data: Data) -> Data {
        var out = Data()
        var index = data.startIndex
        while index < data.endIndex {
            guard let lineEnd = data[index...].firstRange(of: Data([13, 10])) else { break }
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            let end = min(start + size, data.endIndex)
            out.append(data[start..<end])
            index = min(end + 2, data.endIndex)
        }
        return out
    }
}
