/// A TOML 1.0 parser that keeps the source location of every key and value.
///
/// It reports the first syntax error precisely (TOML has no reliable resynchronisation
/// point: an unterminated multi-line string swallows the rest of the file) and enforces
/// `TOMLLimits` so hostile input fails quickly with bounded stack and memory.
public enum TOML {
    /// Parses `bytes` into the root table. A UTF-8 byte order mark at the start is skipped.
    /// - Parameter path: how errors name the file; no file is read.
    /// - Throws: `ManifestError` with one diagnostic.
    public static func parse(_ bytes: [UInt8], path: String, limits: TOMLLimits = .default) throws -> TOMLTable {
        do {
            return try parseOrThrowDiagnostic(bytes, limits: limits)
        } catch let diagnostic as Diagnostic {
            throw ManifestError(path: path, source: bytes, diagnostics: [diagnostic])
        }
    }

    static func parseOrThrowDiagnostic(_ bytes: [UInt8], limits: TOMLLimits) throws -> TOMLTable {
        guard bytes.count <= limits.maxFileSize else {
            throw Diagnostic("file is \(bytes.count) bytes, over the limit of \(limits.maxFileSize) bytes", at: .start)
        }
        let start = bytes.starts(with: UTF8Validator.byteOrderMark) ? 3 : 0
        if let bad = UTF8Validator.firstInvalidOffset(in: bytes) {
            let location = TOMLCursor.location(of: bad, in: bytes, start: start)
            throw Diagnostic("invalid UTF-8 (byte 0x\(String(bytes[bad], radix: 16)))", at: location)
        }
        var parser = TOMLParser(bytes: bytes, start: start, limits: limits)
        return try parser.parseDocument()
    }
}
