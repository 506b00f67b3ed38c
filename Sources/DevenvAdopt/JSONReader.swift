import DevenvText

/// The one JSON reader: RFC 8259 over UTF-8 bytes, optionally with the JSONC extensions
/// devcontainer.json allows (`//` and `/* */` comments, trailing commas, a byte order mark).
/// Linear in the input: the column of a location is counted incrementally, never from the
/// start of the line again. Nesting is bounded, every error is a `Diagnostic` with its line
/// and column, and no input traps.
///
/// Escaped UTF-16 surrogates that do not form a pair (`"\uD888\u1234"`, a lone `"\uDC00"`)
/// decode to U+FFFD, as Go's encoding/json (BuildKit) and browsers' TextDecoder do; raw
/// bytes that are not UTF-8 are an error.
struct JSONReader {
    enum Dialect {
        /// RFC 8259 exactly (the Dockerfile exec form, which BuildKit reads with encoding/json).
        case strict
        /// Comments, trailing commas and a byte order mark, as VS Code reads devcontainer.json.
        case jsonc
    }

    /// Deeper than this is an error, not a stack overflow.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private let dialect: Dialect
    private var index = 0
    private var line = 1
    private var lineStart = 0
    /// The column at byte `columnIndex` of the current line: locations are asked for in
    /// increasing order, so counting from here keeps the whole parse linear.
    private var columnIndex = 0
    private var column = 1

    static func parse(_ bytes: [UInt8], dialect: Dialect) throws(Diagnostic) -> DevContainerJSON {
        var reader = JSONReader(bytes: bytes, dialect: dialect)
        return try reader.document()
    }

    private init(bytes: [UInt8], dialect: Dialect) {
        self.bytes = bytes
        self.dialect = dialect
        if dialect == .jsonc, bytes.starts(with: UTF8Validator.byteOrderMark) {
            index = 3
            lineStart = 3
            columnIndex = 3
        }
    }

    private mutating func location() -> SourceLocation {
        if columnIndex < lineStart || columnIndex > index {
            columnIndex = lineStart
            column = 1
        }
        while columnIndex < index {
            // Columns count scalars: continuation bytes do not start one.
            if bytes[columnIndex] & 0xC0 != 0x80 { column += 1 }
            columnIndex += 1
        }
        return SourceLocation(line: line, column: column, offset: index)
    }

    private mutating func error(_ message: String) -> Diagnostic {
        Diagnostic(message, at: location())
    }

    private mutating func document() throws(Diagnostic) -> DevContainerJSON {
        try skipSpace()
        let value = try parseValue(depth: 0)
        try skipSpace()
        guard index == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private mutating func parseValue(depth: Int) throws(Diagnostic) -> DevContainerJSON {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        let start = location()
        let startIndex = index
        let value: DevContainerJSON.Value
        switch bytes[index] {
        case UInt8(ascii: "{"): value = try object(depth: depth)
        case UInt8(ascii: "["): value = try array(depth: depth)
        case UInt8(ascii: "\""): value = .string(try string())
        case UInt8(ascii: "t"): try literal("true"); value = .bool(true)
        case UInt8(ascii: "f"): try literal("false"); value = .bool(false)
        case UInt8(ascii: "n"): try literal("null"); value = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = .number(try number())
        case UInt8(ascii: "+"), UInt8(ascii: "."): throw error("invalid number: it must start with a digit or '-'")
        default: throw error("unexpected character, expected a value")
        }
        return DevContainerJSON(value: value, location: start, width: max(1, index - startIndex))
    }

    private mutating func object(depth: Int) throws(Diagnostic) -> DevContainerJSON.Value {
        index += 1
        var members: [DevContainerJSON.Member] = []
        try skipSpace()
        if peek("}") { index += 1; return .object(members) }
        while true {
            let keyLocation = location()
            guard peek("\"") else { throw error(members.isEmpty ? "expected a quoted key or '}'" : "expected a quoted key") }
            let key = try string()
            try skipSpace()
            guard peek(":") else { throw error("expected ':' after the key") }
            index += 1
            try skipSpace()
            members.append(DevContainerJSON.Member(key: key, keyLocation: keyLocation, value: try parseValue(depth: depth + 1)))
            try skipSpace()
            if peek("}") { index += 1; return .object(members) }
            guard peek(",") else { throw error("expected ',' or '}'") }
            index += 1
            try skipSpace()
            if dialect == .jsonc, peek("}") { index += 1; return .object(members) }
        }
    }

    private mutating func array(depth: Int) throws(Diagnostic) -> DevContainerJSON.Value {
        index += 1
        var elements: [DevContainerJSON] = []
        try skipSpace()
        if peek("]") { index += 1; return .array(elements) }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            try skipSpace()
            if peek("]") { index += 1; return .array(elements) }
            guard peek(",") else { throw error("expected ',' or ']'") }
            index += 1
            try skipSpace()
            if dialect == .jsonc, peek("]") { index += 1; return .array(elements) }
        }
    }

    private func peek(_ character: Unicode.Scalar) -> Bool {
        index < bytes.count && bytes[index] == UInt8(ascii: character)
    }

    private func isDigit(_ offset: Int) -> Bool {
        offset < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset])
    }

    private mutating func literal(_ word: String) throws(Diagnostic) {
        let text = word.utf8
        guard bytes[index...].starts(with: text), !isWordByte(index + text.count) else {
            throw error("unexpected character, expected a value")
        }
        index += text.count
    }

    private func isWordByte(_ offset: Int) -> Bool {
        guard offset < bytes.count else { return false }
        let byte = bytes[offset]
        return byte >= 0x80 || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as written.
    private mutating func number() throws(Diagnostic) -> String {
        let start = index
        let startLocation = location()
        func invalid(_ why: String) -> Diagnostic {
            Diagnostic("invalid number: \(why)", at: startLocation, width: max(1, index - start))
        }
        if peek("-") { index += 1 }
        guard isDigit(index) else { throw invalid("'-' must be followed by a digit") }
        if peek("0") {
            index += 1
            if isDigit(index) { throw invalid("a leading zero must not be followed by digits") }
        } else {
            while isDigit(index) { index += 1 }
        }
        if peek(".") {
            index += 1
            guard isDigit(index) else { throw invalid("'.' must be followed by a digit") }
            while isDigit(index) { index += 1 }
        }
        if peek("e") || peek("E") {
            index += 1
            if peek("+") || peek("-") { index += 1 }
            guard isDigit(index) else { throw invalid("the exponent needs a digit") }
            while isDigit(index) { index += 1 }
        }
        if isWordByte(index) { throw invalid("unexpected character after it") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func string() throws(Diagnostic) -> String {
        let start = location()
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case 0..<0x20:
                throw error(byte == UInt8(ascii: "\n") ? "unterminated string (a newline must be written \\n)"
                                                       : "control character in a string (write it as a \\u escape)")
            case 0x20..<0x80:
                out.append(byte)
                index += 1
            default:
                guard let (_, length) = UTF8Validator.decode(bytes[...], at: index) else { throw error("invalid UTF-8") }
                out.append(contentsOf: bytes[index..<index + length])
                index += length
            }
        }
        throw Diagnostic("unterminated string", at: start)
    }

    private mutating func escape(into out: inout [UInt8]) throws(Diagnostic) {
        index += 1
        guard index < bytes.count else { throw error("unterminated string") }
        let escaped = bytes[index]
        index += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4()
            var scalar = Unicode.Scalar(unit)
            if (0xD800..<0xDC00).contains(unit), bytes[index...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]),
               let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low) {
                index += 6
                scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            }
            UTF8.encode(scalar ?? "\u{FFFD}") { out.append($0) }
        default:
            index -= 2
            throw error("invalid escape '\\\(Printable.escape(String(Unicode.Scalar(escaped))))' in a string")
        }
    }

    private mutating func hex4() throws(Diagnostic) -> UInt32 {
        guard let value = hex4(at: index) else { throw error("invalid \\u escape: it needs four hexadecimal digits") }
        index += 4
        return value
    }

    private func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[offset..<offset + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Whitespace, and in JSONC comments.
    private mutating func skipSpace() throws(Diagnostic) {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                index += 1
                newLine()
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "/") where dialect == .jsonc && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where dialect == .jsonc && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                let start = location()
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) {
                    index += 1
                    if bytes[index - 1] == UInt8(ascii: "\n") { newLine() }
                }
                guard index + 1 < bytes.count else { throw Diagnostic("unterminated /* comment", at: start) }
                index += 2
            default:
                return
            }
        }
    }

    private mutating func newLine() {
        line += 1
        lineStart = index
        columnIndex = index
        column = 1
    }
}
