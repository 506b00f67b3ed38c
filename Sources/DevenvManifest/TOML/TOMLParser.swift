/// The TOML 1.0 grammar over validated UTF-8 bytes. Recursion happens only for arrays and
/// inline tables, after a depth check, so hostile nesting fails at `maxDepth`.
struct TOMLParser {
    var cursor: TOMLCursor
    let limits: TOMLLimits
    var builder: TOMLDocumentBuilder

    init(bytes: [UInt8], start: Int, limits: TOMLLimits) {
        cursor = TOMLCursor(bytes: bytes, start: start)
        self.limits = limits
        builder = TOMLDocumentBuilder(maxDepth: limits.maxDepth)
    }

    mutating func parseDocument() throws -> TOMLTable {
        var table = TOMLDocumentBuilder.root
        while true {
            cursor.skipWhitespace()
            guard let byte = cursor.peek() else { break }
            switch byte {
            case TOMLSyntax.hash:
                try skipComment()
                try expectLineEnd(after: "a comment")
            case TOMLSyntax.lineFeed, TOMLSyntax.carriageReturn:
                try expectLineEnd(after: "a line")
            case TOMLSyntax.openBracket:
                table = try parseHeader()
                try expectLineEnd(after: "a table header")
            default:
                try parseKeyValue(in: table)
                try expectLineEnd(after: "a value")
            }
        }
        return builder.finish()
    }

    // MARK: - Lines, whitespace, comments

    /// After a statement only whitespace and a comment may follow before the newline.
    mutating func expectLineEnd(after what: String) throws {
        cursor.skipWhitespace()
        if cursor.peek(is: TOMLSyntax.hash) { try skipComment() }
        if cursor.atEnd || cursor.consumeNewline() { return }
        if cursor.peek(is: TOMLSyntax.carriageReturn) {
            throw error("a carriage return must be followed by a line feed")
        }
        throw error("expected a newline after \(what), found \(found())")
    }

    mutating func skipComment() throws {
        cursor.advance()
        while let byte = cursor.peek(), byte != TOMLSyntax.lineFeed {
            if byte == TOMLSyntax.carriageReturn && cursor.peek(is: TOMLSyntax.lineFeed, 1) { return }
            if TOMLSyntax.isForbiddenControl(byte) {
                throw error("control character \(Self.codePoint(byte)) is not allowed in a comment")
            }
            cursor.advance()
        }
    }

    /// Whitespace, comments and newlines, as allowed between array elements.
    mutating func skipBlank() throws {
        while true {
            cursor.skipWhitespace()
            if cursor.peek(is: TOMLSyntax.hash) {
                try skipComment()
            } else if cursor.consumeNewline() {
                continue
            } else if cursor.peek(is: TOMLSyntax.carriageReturn) {
                throw error("a carriage return must be followed by a line feed")
            } else {
                return
            }
        }
    }

    // MARK: - Headers and keys

    mutating func parseHeader() throws -> TOMLDocumentBuilder.TableID {
        let start = cursor.location()
        let isArray = cursor.peek(is: TOMLSyntax.openBracket, 1)
        cursor.advance(isArray ? 2 : 1)
        cursor.skipWhitespace()
        let key = try parseKey()
        cursor.skipWhitespace()
        let closing = isArray ? "]]" : "]"
        guard cursor.peek(is: TOMLSyntax.closeBracket), !isArray || cursor.peek(is: TOMLSyntax.closeBracket, 1) else {
            if cursor.peek(is: TOMLSyntax.closeBracket) { cursor.advance() }  // `[[a]`: point after the lone `]`
            throw error("expected '\(closing)' to close the table header, found \(found())")
        }
        cursor.advance(isArray ? 2 : 1)
        let width = cursor.width(from: start)
        return isArray
            ? try builder.appendArrayTable(key, at: start, width: width)
            : try builder.defineTable(key, at: start, width: width)
    }

    /// A key such as `a`, `"quoted key"`, `'literal'` or `a . "b" . c`.
    mutating func parseKey() throws -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            parts.append(try parseSimpleKey())
            if parts.count > limits.maxDepth {
                throw Diagnostic("key has more than \(limits.maxDepth) parts", at: parts[parts.count - 1].location)
            }
            cursor.skipWhitespace()
            guard cursor.peek(is: TOMLSyntax.dot) else { return parts }
            cursor.advance()
            cursor.skipWhitespace()
        }
    }

    mutating func parseSimpleKey() throws -> KeyPart {
        let start = cursor.location()
        let name: String
        switch cursor.peek() {
        case .some(TOMLSyntax.quote), .some(TOMLSyntax.apostrophe):
            if cursor.peek(1) == cursor.peek() && cursor.peek(2) == cursor.peek() {
                throw error("a multi-line string cannot be a key")
            }
            name = try parseString(allowMultiline: false, limit: limits.maxKeyLength, what: "key")
        case let byte? where TOMLSyntax.isBareKeyByte(byte):
            let first = cursor.offset
            while let next = cursor.peek(), TOMLSyntax.isBareKeyByte(next) { cursor.advance() }
            guard cursor.offset - first <= limits.maxKeyLength else {
                throw Diagnostic("key is longer than \(limits.maxKeyLength) bytes", at: start)
            }
            name = String(decoding: cursor.bytes[first..<cursor.offset], as: UTF8.self)
        default:
            throw error("expected a key, found \(found())")
        }
        return KeyPart(name: name, location: start, width: cursor.width(from: start))
    }

    /// `key = value` into `table` (the current `[table]`, or an inline table being built).
    mutating func parseKeyValue(in table: TOMLDocumentBuilder.TableID) throws {
        let key = try parseKey()
        cursor.skipWhitespace()
        guard cursor.peek(is: TOMLSyntax.equals) else {
            let name = TOMLDocumentBuilder.display(key.map(\.name))
            throw error("expected '=' after the key '\(name)', found \(found())")
        }
        cursor.advance()
        cursor.skipWhitespace()
        let depth = builder.depth(of: table) + key.count
        guard depth <= limits.maxDepth else {
            throw Diagnostic(TOMLLimits.nestingMessage(limits.maxDepth), at: key[key.count - 1].location)
        }
        let value = try parseValue(depth: depth, path: builder.path(of: table) + key.map(\.name))
        try builder.insert(value, at: key, in: table)
    }

    // MARK: - Values

    /// A value at nesting level `depth` (1 for a top-level key).
    mutating func parseValue(depth: Int, path: [String]) throws -> TOMLNode {
        let start = cursor.location()
        let value: TOMLValue
        switch cursor.peek() {
        case .some(TOMLSyntax.quote), .some(TOMLSyntax.apostrophe):
            value = .string(try parseString(allowMultiline: true, limit: limits.maxStringLength, what: "string"))
        case .some(TOMLSyntax.openBracket):
            value = try parseArray(depth: depth, path: path)
        case .some(TOMLSyntax.openBrace):
            value = try parseInlineTable(depth: depth, path: path)
        case let byte? where TOMLSyntax.isScalarByte(byte):
            value = try parseBareValue()
        default:
            throw error("expected a value, found \(found())")
        }
        return TOMLNode(value, at: start, width: cursor.width(from: start))
    }

    mutating func parseArray(depth: Int, path: [String]) throws -> TOMLValue {
        try checkNesting(depth)
        cursor.advance()
        var items: [TOMLNode] = []
        while true {
            try skipBlank()
            if cursor.peek(is: TOMLSyntax.closeBracket) { break }
            items.append(try parseValue(depth: depth + 1, path: path))
            try skipBlank()
            if cursor.peek(is: TOMLSyntax.comma) {
                cursor.advance()
            } else if cursor.peek(is: TOMLSyntax.closeBracket) {
                break
            } else {
                throw error("expected ',' or ']' after an array element, found \(found())")
            }
        }
        cursor.advance()
        return .array(items)
    }

    mutating func parseInlineTable(depth: Int, path: [String]) throws -> TOMLValue {
        try checkNesting(depth)
        let table = builder.beginInlineTable(path: path, depth: depth, at: cursor.location())
        cursor.advance()
        cursor.skipWhitespace()
        if cursor.peek(is: TOMLSyntax.closeBrace) {
            cursor.advance()
            return builder.inlineTable(table)
        }
        while true {
            cursor.skipWhitespace()
            try rejectNewlineInInlineTable()
            try parseKeyValue(in: table)
            cursor.skipWhitespace()
            if cursor.peek(is: TOMLSyntax.closeBrace) {
                cursor.advance()
                return builder.inlineTable(table)
            }
            try rejectNewlineInInlineTable()
            guard cursor.peek(is: TOMLSyntax.comma) else {
                throw error("expected ',' or '}' in an inline table, found \(found())")
            }
            cursor.advance()
            cursor.skipWhitespace()
            if cursor.peek(is: TOMLSyntax.closeBrace) {
                throw error("a trailing comma is not allowed in an inline table (TOML 1.0)")
            }
        }
    }

    private mutating func rejectNewlineInInlineTable() throws {
        if cursor.atNewline || cursor.peek(is: TOMLSyntax.hash) || cursor.peek(is: TOMLSyntax.carriageReturn) {
            throw error("an inline table must be on a single line (TOML 1.0), found \(found())")
        }
    }

    private mutating func checkNesting(_ depth: Int) throws {
        guard depth <= limits.maxDepth else {
            throw error(TOMLLimits.nestingMessage(limits.maxDepth))
        }
    }

    // MARK: - Errors

    mutating func error(_ message: String) -> Diagnostic {
        Diagnostic(message, at: cursor.location())
    }

    func found() -> String {
        TOMLSyntax.describe(cursor.bytes, at: cursor.offset)
    }

    static func codePoint(_ value: UInt8) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}
