/// Byte classes of the TOML 1.0 grammar.
enum TOMLSyntax {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let hash = UInt8(ascii: "#")
    static let quote = UInt8(ascii: "\"")
    static let apostrophe = UInt8(ascii: "'")
    static let backslash = UInt8(ascii: "\\")
    static let dot = UInt8(ascii: ".")
    static let equals = UInt8(ascii: "=")
    static let comma = UInt8(ascii: ",")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let underscore = UInt8(ascii: "_")
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let colon = UInt8(ascii: ":")

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || isLetter(byte) || byte == underscore || byte == minus
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    /// Bytes that can appear in an unquoted value: numbers, dates, times, booleans, inf, nan.
    static func isScalarByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || isLetter(byte) || byte == underscore || byte == plus || byte == minus
            || byte == dot || byte == colon
    }

    /// Control characters that TOML forbids unescaped in strings and comments (tab is allowed).
    static func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != tab) || byte == 0x7F
    }

    /// How an error message names the byte at a position: `'x'`, "a newline", "end of file".
    static func describe(_ bytes: [UInt8], at offset: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        switch bytes[offset] {
        case lineFeed: return "a newline"
        case carriageReturn: return "a carriage return"
        default:
            guard let (scalar, _) = UTF8Validator.decode(bytes[...], at: offset) else { return "an invalid byte" }
            return "'" + TextEscaping.escape(String(Character(scalar))) + "'"
        }
    }
}
