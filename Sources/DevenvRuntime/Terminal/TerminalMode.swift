import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Terminal attributes and sizes for the relay between the user's terminal and the pty.
public enum TerminalMode {
    /// cfmakeraw(3) as a pure function: no echo, no line editing, no signal keys (Ctrl-C
    /// travels as a byte to the container's pty, whose line discipline turns it into SIGINT
    /// for the foreground job there), 8-bit clean.
    public static func raw(_ attributes: termios) -> termios {
        var raw = attributes
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_oflag &= ~tcflag_t(OPOST)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        return raw
    }

    public static func attributes(of descriptor: Int32) -> termios? {
        var attributes = termios()
        return tcgetattr(descriptor, &attributes) == 0 ? attributes : nil
    }

    public static func set(_ attributes: termios, on descriptor: Int32) throws {
        var copy = attributes
        guard tcsetattr(descriptor, TCSADRAIN, &copy) == 0 else { throw SystemError.last("tcsetattr") }
    }

    public static func size(of descriptor: Int32) -> winsize? {
        TerminalControl.windowSize(of: descriptor)
    }

    public static func setSize(_ size: winsize, on descriptor: Int32) {
        TerminalControl.setWindowSize(size, on: descriptor)
    }
}

/// Puts the user's terminal in raw mode and restores it when released, on every exit path.
final class RawTerminal {
    private let descriptor: Int32
    private let saved: termios

    init?(_ descriptor: Int32) {
        guard isatty(descriptor) == 1, let saved = TerminalMode.attributes(of: descriptor) else { return nil }
        self.descriptor = descriptor
        self.saved = saved
        try? TerminalMode.set(TerminalMode.raw(saved), on: descriptor)
    }

    func restore() { try? TerminalMode.set(saved, on: descriptor) }

    deinit { restore() }
}
