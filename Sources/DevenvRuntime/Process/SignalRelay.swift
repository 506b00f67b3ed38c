import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Catches the signals devenv forwards into the container while one runs. A process-wide
/// handler writes each signal number to every active relay's pipe (signals land on any thread
/// of the parent); handlers are installed by the first relay and restored by the last.
/// SIGPIPE is ignored meanwhile so a closed stdout shows up as EPIPE, not as death.
final class SignalRelay {
    static let signals: [Int32] = InitSupervisor.forwarded

    let readEnd: Int32
    private let writeEnd: Int32
    private let slot: Int32

    private static let lock = Lock()
    nonisolated(unsafe) private static var active = 0
    nonisolated(unsafe) private static var saved: [Int32: sigaction] = [:]

    /// `signals`: what to catch (a service's init adds SIGCHLD to its stopping signals).
    init(signals: [Int32] = SignalRelay.signals) throws {
        let ends = try FileDescriptor.pipe()
        readEnd = ends.read.release()
        writeEnd = ends.write.release()
        FileDescriptor.setNonBlocking(readEnd)
        FileDescriptor.setNonBlocking(writeEnd)
        slot = SignalHandlers.register(writeEnd)
        guard slot >= 0 else {
            close(readEnd)
            close(writeEnd)
            throw SystemError.last("register signal relay")
        }
        // A parent that blocked these (some process launchers do) would otherwise keep them pending forever.
        var relayed = sigset_t()
        sigemptyset(&relayed)
        for signal in signals { sigaddset(&relayed, signal) }
        pthread_sigmask(SIG_UNBLOCK, &relayed, nil)
        Self.lock.lock()
        defer { Self.lock.unlock() }
        Self.active += 1
        for signal in signals where Self.saved[signal] == nil {
            if let previous = SignalHandlers.relay(signal) { Self.saved[signal] = previous }
        }
        if Self.saved[SIGPIPE] == nil, let previous = SignalHandlers.ignore(SIGPIPE) { Self.saved[SIGPIPE] = previous }
    }

    /// Signals received since the last call.
    func drain() -> [Int32] {
        var signals: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            guard count > 0 else { return signals }
            signals += buffer[0..<count].map { Int32($0) }
        }
    }

    deinit {
        SignalHandlers.unregister(slot)
        Self.lock.lock()
        Self.active -= 1
        if Self.active == 0 {
            for (signal, previous) in Self.saved { SignalHandlers.restore(signal, previous) }
            Self.saved = [:]
        }
        Self.lock.unlock()
        close(readEnd)
        close(writeEnd)
    }
}
