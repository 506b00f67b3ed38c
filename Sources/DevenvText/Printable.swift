/// Escaping of untrusted text (tar entry names, registry messages, manifest and Dockerfile
/// contents) before it reaches a terminal, so control sequences or bidirectional overrides
/// in hostile input cannot repaint the screen or make a message read differently than it is.
/// One set of rules for every module; this module depends on nothing.
public enum Printable {
    public static func escape(_ text: String, limit: Int = 512) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { out += "…"; break }
            count += 1
            appendEscaped(scalar, to: &out)
        }
        return out
    }

    /// `text` with every control character, C1 code and bidirectional override escaped, but
    /// newlines, tabs and backslashes kept: what the CLI applies to each whole message it
    /// prints, so a value some message forgot to escape cannot drive the terminal, while
    /// text already escaped by `escape` passes through unchanged (no double escaping).
    public static func terminalSafe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsTerminalEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsTerminalEscape(scalar) { appendEscaped(scalar, to: &out) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    private static func needsTerminalEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0a, 0x09: return false
        case 0..<0x20, 0x7f, 0x80..<0xa0, 0x202a...0x202e, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// `text` escaped and between `mark`s, with the mark itself escaped too, so where the
    /// quoted text ends is never in doubt.
    public static func quoted(_ text: String, mark: Character = "'", limit: Int = 512) -> String {
        let escaped = escape(text, limit: limit)
        return "\(mark)" + escaped.replacingAll(String(mark), with: "\\\(mark)") + "\(mark)"
    }

    /// Escapes raw bytes that may not be UTF-8 (file names are bytes on Linux).
    public static func escape(bytes: [UInt8], limit: Int = 512) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return escape(text, limit: limit) }
        var out = ""
        for byte in bytes.prefix(limit) {
            if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "\\x" + hex(byte)
            }
        }
        return out
    }

    public static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
                out += "\\x" + hex(UInt8(scalar.value))
            } else if (0x202a...0x202e).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    public static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}

extension String {
    /// Every occurrence of `target` replaced (the standard library's `replacing` needs macOS 13).
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
