import DevenvText

/// A JSON value from a devcontainer.json, with where it was written.
public struct DevContainerJSON: Sendable {
    public indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([DevContainerJSON])
        /// Members in the order written (a repeated key: the last one counts).
        case object([Member])
    }

    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: DevContainerJSON
    }

    public var value: Value
    public var location: SourceLocation
    public var width: Int

    public var string: String? {
        if case let .string(text) = value { return text }
        return nil
    }

    public var members: [Member]? {
        if case let .object(members) = value { return members }
        return nil
    }

    public var elements: [DevContainerJSON]? {
        if case let .array(elements) = value { return elements }
        return nil
    }

    public subscript(key: String) -> DevContainerJSON? {
        members?.last { $0.key == key }?.value
    }

    public var typeDescription: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses JSON with comments (`//`, `/* */`) and trailing commas, as VS Code reads
    /// devcontainer.json. Errors are a `DiagnosticError` named after `path`.
    public static func parse(_ bytes: [UInt8], path: String) throws -> DevContainerJSON {
        var parser = JSONCParser(bytes: bytes)
        do {
            return try parser.document()
        } catch let diagnostic as Diagnostic {
            throw DiagnosticError(path: path, source: bytes, diagnostics: [diagnostic])
        }
    }
}

/// A small recursive-descent parser over bytes; nesting is bounded.
struct JSONCParser {
    static let maxDepth = 64

    let bytes: [UInt8]
    var index = 0
    var line = 1
    var lineStart = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3; lineStart = 3 }
    }

    var location: SourceLocation {
        // Columns count scalars: skip UTF-8 continuation bytes.
        let column = bytes[lineStart..<index].filter { $0 & 0xC0 != 0x80 }.count + 1
        return SourceLocation(line: line, column: column, offset: index)
    }

    mutating func document() throws -> DevContainerJSON {
        try skipSpace()
        let value = try parseValue(depth: 0)
        try skipSpace()
        guard index == bytes.count else { throw Diagnostic("unexpected text after the JSON value", at: location) }
        return value
    }

    private mutating func parseValue(depth: Int) throws -> DevContainerJSON {
        guard depth < Self.maxDepth else { throw Diagnostic("nesting deeper than \(Self.maxDepth) levels", at: location) }
        guard index < bytes.count else { throw Diagnostic("unexpected end of file, expected a value", at: location) }
        let start = location
        let startIndex = index
        func node(_ value: DevContainerJSON.Value) -> DevContainerJSON {
            DevContainerJSON(value: value, location: start, width: max(1, index - startIndex))
        }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [DevContainerJSON.Member] = []
            while true {
                try skipSpace()
                if peek("}") { index += 1; return node(.object(members)) }
                let keyLocation = location
                guard peek("\"") else { throw Diagnostic("expected a quoted key or '}'", at: location) }
                let key = try parseString()
                try skipSpace()
                guard peek(":") else { throw Diagnostic("expected ':' after the key", at: location) }
                index += 1
                try skipSpace()
                members.append(DevContainerJSON.Member(key: key, keyLocation: keyLocation, value: try parseValue(depth: depth + 1)))
                try skipSpace()
                if peek(",") { index += 1; continue }
                guard peek("}") else { throw Diagnostic("expected ',' or '}'", at: location) }
            }
        case UInt8(ascii: "["):
            index += 1
            var elements: [DevContainerJSON] = []
            while true {
                try skipSpace()
                if peek("]") { index += 1; return node(.array(elements)) }
                elements.append(try parseValue(depth: depth + 1))
                try skipSpace()
                if peek(",") { index += 1; continue }
                guard peek("]") else { throw Diagnostic("expected ',' or ']'", at: location) }
            }
        case UInt8(ascii: "\""):
            return node(.string(try parseString()))
        case UInt8(ascii: "t"): try literal("true"); return node(.bool(true))
        case UInt8(ascii: "f"): try literal("false"); return node(.bool(false))
        case UInt8(ascii: "n"): try literal("null"); return node(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            while index < bytes.count, "+-.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
            return node(.number(String(decoding: bytes[startIndex..<index], as: UTF8.self)))
        default:
            throw Diagnostic("unexpected character, expected a value", at: location)
        }
    }

    private func peek(_ character: Unicode.Scalar) -> Bool {
        index < bytes.count && bytes[index] == UInt8(ascii: character)
    }

    private mutating func literal(_ word: String) throws {
        guard bytes[index...].starts(with: word.utf8) else { throw Diagnostic("unexpected character, expected a value", at: location) }
        index += word.utf8.count
    }

    private mutating func parseString() throws -> String {
        let start = location
        index += 1
        var scalars = String.UnicodeScalarView()
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(scalars)
            }
            if byte == UInt8(ascii: "\n") || byte < 0x20 { break }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.count else { break }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(Unicode.Scalar(escaped))
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var unit = try hex4()
                    if (0xD800..<0xDC00).contains(unit), bytes[index...].starts(with: "\\u".utf8) {
                        index += 2
                        let low = try hex4()
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low &- 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(unit) else { throw Diagnostic("invalid \\u escape", at: location) }
                    scalars.append(scalar)
                default:
                    throw Diagnostic("invalid escape '\\\(Unicode.Scalar(escaped))' in a string", at: location)
                }
                continue
            }
            guard let (scalar, length) = Self.decode(bytes, index) else { throw Diagnostic("invalid UTF-8", at: location) }
            scalars.append(scalar)
            index += length
        }
        throw Diagnostic("unterminated string", at: start)
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw Diagnostic("invalid \\u escape", at: location)
        }
        index += 4
        return value
    }

    /// Whitespace and comments.
    private mutating func skipSpace() throws {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                index += 1
                line += 1
                lineStart = index
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                let start = location
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) {
                    if bytes[index] == UInt8(ascii: "\n") { line += 1; lineStart = index + 1 }
                    index += 1
                }
                guard index + 1 < bytes.count else { throw Diagnostic("unterminated /* comment", at: start) }
                index += 2
            default:
                return
            }
        }
    }

    private static func decode(_ bytes: [UInt8], _ index: Int) -> (Unicode.Scalar, Int)? {
        UTF8Validator.decode(bytes[...], at: index)
    }
}
