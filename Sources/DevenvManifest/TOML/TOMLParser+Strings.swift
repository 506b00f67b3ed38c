/// Basic, literal and multi-line strings (TOML 1.0 §String).
extension TOMLParser {
    /// Parses a string starting at the cursor's quote. `what` names it in length errors.
    mutating func parseString(allowMultiline: Bool, limit: Int, what: String) throws -> String {
        let start = cursor.location()
        let delimiter = cursor.peek() ?? TOMLSyntax.quote
        let isMultiline = cursor.peek(1) == delimiter && cursor.peek(2) == delimiter
        var buffer: [UInt8] = []
        if isMultiline && allowMultiline {
            cursor.advance(3)
            _ = cursor.consumeNewline()  // a newline right after the opening delimiter is trimmed
            try scanMultiline(delimiter, into: &buffer, start: start, limit: limit, what: what)
        } else {
            cursor.advance()
            try scanSingleLine(delimiter, into: &buffer, start: start, limit: limit, what: what)
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    private mutating func scanSingleLine(_ delimiter: UInt8, into buffer: inout [UInt8], start: SourceLocation, limit: Int, what: String) throws {
        while true {
            guard let byte = cursor.peek(), byte != TOMLSyntax.lineFeed, byte != TOMLSyntax.carriageReturn else {
                throw Diagnostic("unterminated string: a single-line string must end on the line where it starts", at: start)
            }
            if byte == delimiter {
                cursor.advance()
                return
            }
            if byte == TOMLSyntax.backslash && delimiter == TOMLSyntax.quote {
                try parseEscape(into: &buffer)
            } else {
                try appendCharacter(byte, into: &buffer)
            }
            try checkLength(buffer, limit: limit, what: what, start: start)
        }
    }

    private mutating func scanMultiline(_ delimiter: UInt8, into buffer: inout [UInt8], start: SourceLocation, limit: Int, what: String) throws {
        while true {
            guard let byte = cursor.peek() else {
                throw Diagnostic("unterminated multi-line string", at: start)
            }
            if byte == delimiter {
                var run = 0
                while cursor.peek(run) == delimiter { run += 1 }
                cursor.advance(run)
                if run < 3 {
                    buffer.append(contentsOf: repeatElement(delimiter, count: run))
                    continue
                }
                // Up to two quotes may sit right before the closing delimiter.
                guard run <= 5 else {
                    throw error("too many quotes at the end of a multi-line string")
                }
                buffer.append(contentsOf: repeatElement(delimiter, count: run - 3))
                try checkLength(buffer, limit: limit, what: what, start: start)
                return
            }
            if byte == TOMLSyntax.backslash && delimiter == TOMLSyntax.quote {
                if try skipLineEndingBackslash() { continue }
                try parseEscape(into: &buffer)
            } else if byte == TOMLSyntax.lineFeed || byte == TOMLSyntax.carriageReturn {
                guard cursor.consumeNewline() else { throw error("a carriage return must be followed by a line feed") }
                buffer.append(TOMLSyntax.lineFeed)
            } else {
                try appendCharacter(byte, into: &buffer)
            }
            try checkLength(buffer, limit: limit, what: what, start: start)
        }
    }

    /// A backslash that ends a line trims it and all whitespace up to the next text.
    private mutating func skipLineEndingBackslash() throws -> Bool {
        var ahead = 1
        while cursor.peek(ahead) == TOMLSyntax.space || cursor.peek(ahead) == TOMLSyntax.tab { ahead += 1 }
        let next = cursor.peek(ahead)
        guard next == TOMLSyntax.lineFeed || (next == TOMLSyntax.carriageReturn && cursor.peek(ahead + 1) == TOMLSyntax.lineFeed) else {
            return false
        }
        cursor.advance(ahead)
        while true {
            cursor.skipWhitespace()
            if !cursor.consumeNewline() { return true }
        }
    }

    private mutating func appendCharacter(_ byte: UInt8, into buffer: inout [UInt8]) throws {
        if TOMLSyntax.isForbiddenControl(byte) {
            throw error("control character \(Self.codePoint(byte)) must be escaped in a string")
        }
        buffer.append(byte)
        cursor.advance()
    }

    private mutating func checkLength(_ buffer: [UInt8], limit: Int, what: String, start: SourceLocation) throws {
        if buffer.count > limit {
            throw Diagnostic("\(what) is longer than \(limit) bytes", at: start)
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws {
        let escapeStart = cursor.location()
        cursor.advance()
        guard let letter = cursor.peek() else { throw error("unterminated escape sequence") }
        let simple: UInt8?
        switch letter {
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "u"), UInt8(ascii: "U"): simple = nil
        case UInt8(ascii: "e"), UInt8(ascii: "x"):
            throw Diagnostic("escape sequence '\\\(Character(Unicode.Scalar(letter)))' is TOML 1.1; this file must be TOML 1.0", at: escapeStart, width: 2)
        case TOMLSyntax.lineFeed, TOMLSyntax.carriageReturn:
            throw Diagnostic("a backslash at the end of a line is only allowed in a multi-line string", at: escapeStart)
        default:
            throw Diagnostic("invalid escape sequence '\\\(TOMLSyntax.describe(cursor.bytes, at: cursor.offset).trimmingQuotes)'", at: escapeStart, width: 2)
        }
        cursor.advance()
        if let simple {
            buffer.append(simple)
            return
        }
        let digits = letter == UInt8(ascii: "u") ? 4 : 8
        var value: UInt32 = 0
        for index in 0..<digits {
            guard let byte = cursor.peek(index), TOMLSyntax.isHexDigit(byte) else {
                throw Diagnostic("'\\\(Character(Unicode.Scalar(letter)))' needs \(digits) hexadecimal digits", at: escapeStart, width: 2 + index)
            }
            value = value << 4 | UInt32(Self.hexValue(byte))
        }
        cursor.advance(digits)
        guard let scalar = Unicode.Scalar(value) else {
            throw Diagnostic("escape '\\\(Character(Unicode.Scalar(letter)))\(String(value, radix: 16, uppercase: true))' is not a Unicode scalar value", at: escapeStart, width: 2 + digits)
        }
        buffer.append(contentsOf: String(Character(scalar)).utf8)
    }

    static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        default: return byte - 0x61 + 10
        }
    }
}

extension String {
    /// `'x'` -> `x`, for reusing `TOMLSyntax.describe` inside a quoted message.
    var trimmingQuotes: String {
        hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}
