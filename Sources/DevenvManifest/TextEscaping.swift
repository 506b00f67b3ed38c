/// Escaping of text taken from a manifest before it goes into an error message, so control
/// characters in a hostile file cannot repaint the terminal. (The same rules as
/// `DevenvOCI.Printable`; this module stays dependency-free, so it has its own copy.)
enum TextEscaping {
    static func escape(_ text: String, limit: Int = 128) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { out += "…"; break }
            count += 1
            appendEscaped(scalar, to: &out)
        }
        return out
    }

    /// Escapes bytes that may not be UTF-8 (an invalid source line), scalar by scalar where
    /// they decode and as `\xNN` where they do not.
    /// For source lines (`forSourceLine`), tabs become spaces and backslashes stay as they
    /// are, so the line reads as it does in an editor and the caret stays aligned.
    static func escape(bytes: ArraySlice<UInt8>, forSourceLine: Bool = false) -> String {
        var out = ""
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if let (scalar, length) = UTF8Validator.decode(bytes, at: index) {
                if forSourceLine && scalar == "\t" {
                    out += " "
                } else if forSourceLine && scalar == "\\" {
                    out += "\\"
                } else {
                    appendEscaped(scalar, to: &out)
                }
                index += length
            } else {
                out += "\\x" + hex(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// A key as TOML would write it: bare when possible, quoted otherwise.
    static func key(_ key: String) -> String {
        let isBare = !key.isEmpty && key.utf8.allSatisfy { TOMLSyntax.isBareKeyByte($0) }
        if isBare { return key }
        var out = "\""
        for character in escape(key) {
            out += character == "\"" ? "\\\"" : String(character)
        }
        return out + "\""
    }

    private static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
                out += "\\x" + hex(UInt8(scalar.value))
            } else if (0x202a...0x202e).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) {
                // Bidirectional overrides can make an error message read differently than it is.
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
