/// A position in the source bytes that knows its line and column. Columns are computed on
/// demand from a per-line cache, so asking for locations in increasing order costs O(n)
/// overall even for a 1 MiB single-line file.
struct TOMLCursor {
    let bytes: [UInt8]
    var offset: Int
    private(set) var line = 1
    private(set) var lineStart: Int
    private var cachedOffset: Int
    private var cachedColumn = 1

    init(bytes: [UInt8], start: Int) {
        self.bytes = bytes
        self.offset = start
        self.lineStart = start
        self.cachedOffset = start
    }

    var atEnd: Bool { offset >= bytes.count }

    func peek(_ ahead: Int = 0) -> UInt8? {
        let index = offset + ahead
        return index < bytes.count ? bytes[index] : nil
    }

    func peek(is byte: UInt8, _ ahead: Int = 0) -> Bool { peek(ahead) == byte }

    mutating func advance(_ count: Int = 1) { offset += count }

    /// The location of the cursor.
    mutating func location() -> SourceLocation { location(at: offset) }

    /// The location of `target`, which must lie on the current line.
    mutating func location(at target: Int) -> SourceLocation {
        if target < cachedOffset || cachedOffset < lineStart {
            cachedOffset = lineStart
            cachedColumn = 1
        }
        var column = cachedColumn
        var index = cachedOffset
        while index < target {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        cachedOffset = target
        cachedColumn = column
        return SourceLocation(line: line, column: column, offset: target)
    }

    /// Columns between `start` and the cursor, or 1 when the cursor has left `start`'s line.
    mutating func width(from start: SourceLocation) -> Int {
        start.line == line ? max(1, location().column - start.column) : 1
    }

    var atNewline: Bool {
        peek(is: TOMLSyntax.lineFeed) || (peek(is: TOMLSyntax.carriageReturn) && peek(is: TOMLSyntax.lineFeed, 1))
    }

    /// Consumes LF or CRLF and starts a new line; returns false if there is no newline here.
    mutating func consumeNewline() -> Bool {
        if peek(is: TOMLSyntax.lineFeed) {
            offset += 1
        } else if peek(is: TOMLSyntax.carriageReturn) && peek(is: TOMLSyntax.lineFeed, 1) {
            offset += 2
        } else {
            return false
        }
        line += 1
        lineStart = offset
        cachedOffset = offset
        cachedColumn = 1
        return true
    }

    mutating func skipWhitespace() {
        while let byte = peek(), byte == TOMLSyntax.space || byte == TOMLSyntax.tab { offset += 1 }
    }

    /// The location of an arbitrary offset, for errors found before parsing starts
    /// (invalid UTF-8). Linear in the offset; used once.
    static func location(of target: Int, in bytes: [UInt8], start: Int) -> SourceLocation {
        var line = 1
        var column = 1
        var index = start
        while index < target {
            if bytes[index] == TOMLSyntax.lineFeed {
                line += 1
                column = 1
            } else if bytes[index] & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        return SourceLocation(line: line, column: column, offset: target)
    }
}
