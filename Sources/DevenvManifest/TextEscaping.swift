import DevenvText

/// Escaping of text taken from a manifest before it goes into an error message, with
/// `Printable`'s rules, plus the forms source lines and TOML keys need.
enum TextEscaping {
    static func escape(_ text: String, limit: Int = 128) -> String {
        Printable.escape(text, limit: limit)
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
                    Printable.appendEscaped(scalar, to: &out)
                }
                index += length
            } else {
                out += "\\x" + Printable.hex(bytes[index])
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
}
