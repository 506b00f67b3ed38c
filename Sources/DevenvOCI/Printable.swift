/// Escaping of untrusted text (tar entry names, registry messages, user input) before it
/// reaches a terminal, so control sequences in hostile input cannot repaint the screen.
public enum Printable {
    public static func escape(_ text: String, limit: Int = 512) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { out += "…"; break }
            count += 1
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Escapes raw bytes that may not be UTF-8 (file names are bytes on Linux).
    public static func escape(bytes: [UInt8], limit: Int = 512) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return escape(text, limit: limit) }
        var out = ""
        for byte in bytes.prefix(limit) {
            if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "\\x" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
