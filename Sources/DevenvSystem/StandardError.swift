import DevenvText
#if canImport(Glibc)
import Glibc
#endif

/// Messages for the user on stderr, written whole and unbuffered (nothing is lost when the
/// process execs or exits right after), with control characters escaped as the CLI's are.
public enum StandardError {
    public static func line(_ text: String) {
        var bytes = Array((Printable.terminalSafe(text) + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            offset += count
        }
    }
}
