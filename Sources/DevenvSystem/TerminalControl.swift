import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Terminal ioctls.
public enum TerminalControl {
    /// Makes `descriptor` the controlling terminal of this (new session's) process (TIOCSCTTY).
    public static func makeControlling(_ descriptor: Int32) throws {
        guard devenv_ioctl_int(descriptor, 0x540E, 0) == 0 else { throw SystemError.last("set controlling terminal") }
    }

    public static func windowSize(of descriptor: Int32) -> winsize? {
        var size = winsize()
        return devenv_ioctl_ptr(descriptor, 0x5413, &size) == 0 ? size : nil  // TIOCGWINSZ
    }

    public static func setWindowSize(_ size: winsize, on descriptor: Int32) {
        var copy = size
        _ = devenv_ioctl_ptr(descriptor, 0x5414, &copy)  // TIOCSWINSZ
    }

    /// A new pty from the devpts mounted at `multiplexer`'s directory: the master, unlocked,
    /// and its peer (TIOCGPTPEER, so the slave is surely this master's), both close-on-exec.
    public static func openPseudoterminal(_ multiplexer: String) throws -> (master: Int32, slave: Int32) {
        let master = try FileDescriptor.openRaw(multiplexer, O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        guard devenv_ioctl_ptr(master, 0x4004_5431, &unlock) == 0 else {  // TIOCSPTLCK
            let error = SystemError.last("unlock pty")
            close(master)
            throw error
        }
        let slave = devenv_ioctl_int(master, 0x5441, O_RDWR | O_NOCTTY | O_CLOEXEC)  // TIOCGPTPEER
        guard slave >= 0 else {
            let error = SystemError.last("open pty peer")
            close(master)
            throw error
        }
        return (master, slave)
    }
}
