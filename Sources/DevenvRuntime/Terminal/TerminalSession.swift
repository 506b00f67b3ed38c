import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Relays between the user's terminal and the container's pty master: raw mode for the
/// session (restored on every way out of `relay`), the window size at start and on SIGWINCH,
/// other signals forwarded to init. Input to the pty is buffered so a container that stops
/// reading can never block its own output.
final class TerminalSession {
    let master: FileDescriptor
    let io: ContainerIO

    init(master: FileDescriptor, io: ContainerIO) {
        self.master = master
        self.io = io
    }

    func relay(until launched: LaunchedInit, signals: SignalRelay) {
        let raw = RawTerminal(io.input)
        defer { raw?.restore() }
        copyWindowSize()
        FileDescriptor.setNonBlocking(master.raw)

        var pending: [UInt8] = []
        var inputOpen = true
        var outputOpen = true
        var masterOpen = true
        while true {
            var descriptors = [pollfd(fd: launched.pidfd.raw, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: signals.readEnd, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: masterOpen ? master.raw : -1, events: Int16(POLLIN) | (pending.isEmpty ? 0 : Int16(POLLOUT)), revents: 0),
                               pollfd(fd: inputOpen && pending.count < 65536 ? io.input : -1, events: Int16(POLLIN), revents: 0)]
            if poll(&descriptors, 4, -1) < 0 { continue }
            for signal in signals.drain() {
                if signal == SIGWINCH { copyWindowSize() } else { ProcessControl.signal(pidfd: launched.pidfd.raw, signal) }
            }
            if descriptors[2].revents & Int16(POLLOUT) != 0 { flush(&pending) }
            if descriptors[2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                masterOpen = copyOutput(&outputOpen)
                if !outputOpen && masterOpen {
                    // Nobody reads the output any more (`| head -1`): hang up the terminal, as
                    // closing a terminal window would, so the container gets SIGHUP.
                    close(master.release())
                    masterOpen = false
                }
            }
            if descriptors[3].revents != 0 {
                inputOpen = readInput(into: &pending)
                if !inputOpen { pending.append(eofCharacter()) }
            }
            if descriptors[0].revents != 0 { break }
        }
        // init is gone; whatever the command wrote last is still in the pty.
        while masterOpen && outputOpen { masterOpen = copyOutput(&outputOpen) && hasMore() }
    }

    private func hasMore() -> Bool {
        var entry = pollfd(fd: master.raw, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLIN) != 0
    }

    private func copyWindowSize() {
        guard let size = TerminalMode.size(of: io.output) ?? TerminalMode.size(of: io.input) else { return }
        TerminalMode.setSize(size, on: master.raw)
    }

    /// False once the pty has no writers left (EIO) or is otherwise finished.
    private func copyOutput(_ outputOpen: inout Bool) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let count = buffer.withUnsafeMutableBytes { read(master.raw, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EAGAIN || errno == EINTR }
        if count == 0 { return false }
        if outputOpen {
            // A closed stdout (`| head -1`) stops the copying, not the session.
            outputOpen = (try? FileDescriptor.writeAll(io.output, Array(buffer[0..<count]))) != nil
        }
        return true
    }

    private func readInput(into pending: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let count = buffer.withUnsafeMutableBytes { read(io.input, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EAGAIN || errno == EINTR }
        if count == 0 { return false }
        pending += buffer[0..<count]
        return true
    }

    private func flush(_ pending: inout [UInt8]) {
        let count = pending.withUnsafeBytes { write(master.raw, $0.baseAddress, $0.count) }
        if count > 0 { pending.removeFirst(count) }
    }

    /// End of input travels through a pty as the VEOF character of its line discipline.
    private func eofCharacter() -> UInt8 {
        guard var attributes = TerminalMode.attributes(of: master.raw) else { return 4 }
        return withUnsafeBytes(of: &attributes.c_cc) { $0[Int(VEOF)] }
    }
}
