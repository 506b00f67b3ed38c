/// Unquoted values: booleans, integers, floats, dates and times (TOML 1.0).
extension TOMLParser {
    mutating func parseBareValue() throws -> TOMLValue {
        let start = cursor.location()
        let first = cursor.offset
        scanScalarRun()
        // `1979-05-27 07:32:00`: a date, one space, and a time form one date-time.
        if cursor.offset - first == 10, Self.isDate(cursor.bytes[first..<cursor.offset]),
           cursor.peek(is: TOMLSyntax.space), let a = cursor.peek(1), let b = cursor.peek(2),
           TOMLSyntax.isDigit(a), TOMLSyntax.isDigit(b), cursor.peek(is: TOMLSyntax.colon, 3) {
            cursor.advance()
            scanScalarRun()
        }
        let token = cursor.bytes[first..<cursor.offset]
        let width = cursor.width(from: start)
        do {
            return try Self.classify(token)
        } catch let reason as ScalarError {
            throw Diagnostic(reason.message, at: start, width: width)
        }
    }

    private mutating func scanScalarRun() {
        while let byte = cursor.peek(), TOMLSyntax.isScalarByte(byte) { cursor.advance() }
    }

    struct ScalarError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func classify(_ token: ArraySlice<UInt8>) throws -> TOMLValue {
        if let small = smallInteger(token) { return .integer(small) }
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan": return .float(.nan)
        case "-nan": return .float(-.nan)
        default: break
        }
        if token.count >= 5 && isDate(token.prefix(10)) || token.count >= 3 && isTimePrefix(token) {
            return try TOMLDateParser.parse(token, text: text)
        }
        if let first = token.first, TOMLSyntax.isDigit(first) || first == TOMLSyntax.plus || first == TOMLSyntax.minus || first == TOMLSyntax.dot {
            return try parseNumber(token, text: text)
        }
        throw ScalarError("expected a value, found '\(TextEscaping.escape(text, limit: 40))' (strings must be in quotes)")
    }

    /// The common case of a short unsigned decimal without underscores, parsed without
    /// allocating: `0` or a non-zero digit followed by at most 17 digits.
    private static func smallInteger(_ token: ArraySlice<UInt8>) -> Int64? {
        guard let first = token.first, TOMLSyntax.isDigit(first), token.count <= 18,
              first != UInt8(ascii: "0") || token.count == 1 else { return nil }
        var value: Int64 = 0
        for byte in token {
            guard TOMLSyntax.isDigit(byte) else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value
    }

    /// `dddd-dd-dd` (the first 10 bytes of a date or date-time).
    static func isDate(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count == 10 else { return false }
        let s = bytes.startIndex
        for offset in 0..<10 {
            let isSeparator = offset == 4 || offset == 7
            guard isSeparator ? bytes[s + offset] == TOMLSyntax.minus : TOMLSyntax.isDigit(bytes[s + offset]) else { return false }
        }
        return true
    }

    /// `dd:`, the start of a local time.
    static func isTimePrefix(_ bytes: ArraySlice<UInt8>) -> Bool {
        let s = bytes.startIndex
        return bytes.count >= 3 && TOMLSyntax.isDigit(bytes[s]) && TOMLSyntax.isDigit(bytes[s + 1]) && bytes[s + 2] == TOMLSyntax.colon
    }

    // MARK: - Numbers

    static func parseNumber(_ token: ArraySlice<UInt8>, text: String) throws -> TOMLValue {
        var rest = token
        let sign = rest.first == TOMLSyntax.plus || rest.first == TOMLSyntax.minus ? rest.popFirst() : nil
        if rest.count > 2, rest.first == UInt8(ascii: "0"), let radix = radix(of: rest[rest.startIndex + 1]) {
            guard sign == nil else { throw ScalarError("a sign is not allowed on a hexadecimal, octal or binary integer: '\(text)'") }
            return try parseRadixInteger(rest.dropFirst(2), radix: radix, text: text)
        }
        let integerEnd = rest.firstIndex { $0 == TOMLSyntax.dot || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") } ?? rest.endIndex
        let integerPart = rest[..<integerEnd]
        try checkDigits(integerPart, text: text, isDigit: TOMLSyntax.isDigit)
        if integerPart.count > 1 && integerPart.first == UInt8(ascii: "0") {
            throw ScalarError("leading zeros are not allowed in '\(text)'")
        }
        if integerEnd == rest.endIndex {
            guard let value = Int64(digitsWithoutUnderscores(token)) else {
                throw ScalarError("integer '\(text)' does not fit in 64 bits")
            }
            return .integer(value)
        }
        var tail = rest[integerEnd...]
        if tail.first == TOMLSyntax.dot {
            tail = tail.dropFirst()
            let fractionEnd = tail.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") } ?? tail.endIndex
            try checkDigits(tail[..<fractionEnd], text: text, isDigit: TOMLSyntax.isDigit)
            tail = tail[fractionEnd...]
        }
        if let marker = tail.first {
            guard marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") else { throw ScalarError("invalid number '\(text)'") }
            tail = tail.dropFirst()
            if tail.first == TOMLSyntax.plus || tail.first == TOMLSyntax.minus { tail = tail.dropFirst() }
            try checkDigits(tail, text: text, isDigit: TOMLSyntax.isDigit)
        }
        guard let value = Double(digitsWithoutUnderscores(token)), value.isFinite else {
            throw ScalarError("float '\(text)' is out of range")
        }
        return .float(value)
    }

    private static func radix(of byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "x"): return 16
        case UInt8(ascii: "o"): return 8
        case UInt8(ascii: "b"): return 2
        default: return nil
        }
    }

    private static func parseRadixInteger(_ digits: ArraySlice<UInt8>, radix: Int, text: String) throws -> TOMLValue {
        try checkDigits(digits, text: text) { byte in
            switch radix {
            case 16: return TOMLSyntax.isHexDigit(byte)
            case 8: return byte >= 0x30 && byte <= 0x37
            default: return byte == 0x30 || byte == 0x31
            }
        }
        guard let value = Int64(digitsWithoutUnderscores(digits), radix: radix) else {
            throw ScalarError("integer '\(text)' does not fit in 64 bits")
        }
        return .integer(value)
    }

    /// One or more digits; each underscore must sit between two digits.
    private static func checkDigits(_ bytes: ArraySlice<UInt8>, text: String, isDigit: (UInt8) -> Bool) throws {
        var previousWasDigit = false
        for byte in bytes {
            if byte == TOMLSyntax.underscore {
                guard previousWasDigit else { throw ScalarError("an underscore in a number must be between digits: '\(TextEscaping.escape(text, limit: 40))'") }
                previousWasDigit = false
            } else if isDigit(byte) {
                previousWasDigit = true
            } else {
                throw ScalarError("invalid number '\(TextEscaping.escape(text, limit: 40))'")
            }
        }
        guard previousWasDigit else {
            throw ScalarError(bytes.isEmpty
                ? "invalid number '\(TextEscaping.escape(text, limit: 40))': digits expected"
                : "an underscore in a number must be between digits: '\(TextEscaping.escape(text, limit: 40))'")
        }
    }

    private static func digitsWithoutUnderscores(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.filter { $0 != TOMLSyntax.underscore }, as: UTF8.self)
    }
}
