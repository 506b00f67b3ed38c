import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Forwards TCP from the host's loopback into the private network's: each listener is a
/// socket bound on the host (it keeps the namespace it was made in), each accepted connection
/// is joined to a new connection to 127.0.0.1:PORT made here, inside. A listener starts to
/// listen only once something inside accepts on its port, so a connection from the host
/// succeeds exactly when the service would take it (readiness checks on the host stay true).
/// One thread, one poll loop, 64 KiB in flight per direction. The loop ends once the last
/// member's lifeline connection closed (after a moment, for the next container to join), or
/// when nobody joined at all within `firstJoinGrace`.
struct PortForwarder {
    struct Listener {
        let socket: Int32
        let port: Int
        var listening = false

        init(socket: Int32, port: Int) {
            self.socket = socket
            self.port = port
        }
    }

    /// One direction of a connection: bytes read from `from` waiting to go to `to`.
    struct Flow {
        let from: Int32
        let to: Int32
        var pending: [UInt8] = []
        var sent = 0
        var ended = false

        var idle: Bool { sent == pending.count }
        var finished: Bool { ended && idle }
    }

    struct Connection {
        var up: Flow
        var down: Flow
        var broken = false

        var done: Bool { broken || (up.finished && down.finished) }
    }

    var listeners: [Listener]
    let lifeline: Int32
    var connections: [Connection] = []
    /// The members' lifeline connections.
    var members: [Int32] = []

    /// A holder nobody joined within this time is left over (its starter died).
    static let firstJoinGrace = Duration.seconds(60)
    /// How long the network outlives its last member: a session leaving while the next one
    /// starts must not lose the services' network.
    static let lastLeaveGrace = Duration.milliseconds(1500)

    init(listeners: [Listener], lifeline: Int32) {
        self.listeners = listeners
        self.lifeline = lifeline
    }

    static let chunk = 64 << 10

    /// A socket bound to 127.0.0.1:`port` on the host, not listening yet.
    static func bind(_ port: Int) throws -> Int32 {
        do {
            return try LoopbackSocket.bind(port)
        } catch let error as SystemError {
            throw RuntimeError(.setup, InitReport.describe("publish port \(port) on 127.0.0.1", errno: error.errno), errno: error.errno,
                               hint: error.errno == EADDRINUSE ? "another program listens on port \(port); stop it, or publish another port" : nil)
        }
    }

    mutating func run() {
        let started = ContinuousClock.now
        var emptySince: ContinuousClock.Instant? = started
        var joined = false
        while true {
            startListening()
            let waiting = listeners.contains { !$0.listening }
            var entries = [pollfd(fd: lifeline, events: Int16(POLLIN), revents: 0)]
            var roles: [Role] = [.lifeline]
            for (index, member) in members.enumerated() {
                entries.append(pollfd(fd: member, events: Int16(POLLIN), revents: 0))
                roles.append(.member(index))
            }
            for (index, listener) in listeners.enumerated() where listener.listening {
                entries.append(pollfd(fd: listener.socket, events: Int16(POLLIN), revents: 0))
                roles.append(.listener(index))
            }
            for (index, connection) in connections.enumerated() {
                for (direction, flow) in [(0, connection.up), (1, connection.down)] {
                    if !flow.idle {
                        entries.append(pollfd(fd: flow.to, events: Int16(POLLOUT), revents: 0))
                    } else if !flow.ended {
                        entries.append(pollfd(fd: flow.from, events: Int16(POLLIN), revents: 0))
                    } else {
                        continue
                    }
                    roles.append(.flow(index, direction))
                }
            }
            let ready = poll(&entries, nfds_t(entries.count), waiting || emptySince != nil ? 100 : 1000)
            var left: Set<Int> = []
            if ready > 0 {
                for (entry, role) in zip(entries, roles) where entry.revents != 0 {
                    switch role {
                    case .lifeline:
                        let member = Glibc.accept(lifeline, nil, nil)
                        if member >= 0 {
                            _ = fcntl(member, F_SETFD, FD_CLOEXEC)
                            members.append(member)
                            joined = true
                        }
                    case let .member(index):
                        // Members never write: readable means closed.
                        left.insert(index)
                    case let .listener(index): accept(index)
                    case let .flow(index, direction): move(index, direction)
                    }
                }
            }
            for index in left.sorted(by: >) {
                close(members[index])
                members.remove(at: index)
            }
            for connection in connections where connection.done {
                close(connection.up.from)
                close(connection.up.to)
            }
            connections.removeAll { $0.done }
            if !members.isEmpty {
                emptySince = nil
            } else {
                let since = emptySince ?? ContinuousClock.now
                emptySince = since
                let grace = joined ? Self.lastLeaveGrace : Self.firstJoinGrace
                if ContinuousClock.now - since >= grace { return }
            }
        }
    }

    private enum Role {
        case lifeline
        case member(Int)
        case listener(Int)
        case flow(Int, Int)
    }

    /// Listeners whose port now accepts inside begin to listen.
    private mutating func startListening() {
        for index in listeners.indices where !listeners[index].listening {
            guard let probe = LoopbackSocket.connect(listeners[index].port) else { continue }
            close(probe)
            listeners[index].listening = listen(listeners[index].socket, 128) == 0
        }
    }

    private mutating func accept(_ index: Int) {
        let client = Glibc.accept(listeners[index].socket, nil, nil)
        guard client >= 0 else { return }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        FileDescriptor.setNonBlocking(client)
        guard let inner = LoopbackSocket.connect(listeners[index].port) else {
            close(client)
            return
        }
        FileDescriptor.setNonBlocking(inner)
        connections.append(Connection(up: Flow(from: client, to: inner), down: Flow(from: inner, to: client)))
    }

    private mutating func move(_ index: Int, _ direction: Int) {
        var flow = direction == 0 ? connections[index].up : connections[index].down
        var broken = false
        if flow.idle {
            var buffer = [UInt8](repeating: 0, count: Self.chunk)
            let count = buffer.withUnsafeMutableBytes { recv(flow.from, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                flow.pending = Array(buffer[0..<count])
                flow.sent = 0
            } else if count == 0 {
                flow.ended = true
            } else if errno != EAGAIN && errno != EINTR {
                broken = true
            }
        }
        if !flow.idle {
            let count = flow.pending.withUnsafeBytes { send(flow.to, $0.baseAddress! + flow.sent, $0.count - flow.sent, Int32(MSG_NOSIGNAL)) }
            if count > 0 { flow.sent += count } else if count < 0 && errno != EAGAIN && errno != EINTR { broken = true }
        }
        // The other side learns of the end once everything before it arrived.
        if flow.finished { shutdown(flow.to, Int32(SHUT_WR)) }
        if direction == 0 { connections[index].up = flow } else { connections[index].down = flow }
        if broken { connections[index].broken = true }
    }
}
