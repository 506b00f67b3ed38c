/// One problem at a place in a project file (a manifest, a Dockerfile, a devcontainer.json).
/// `message` is already escaped for a terminal; `sourceLine` is the (escaped) text of the
/// offending line when it is known. Parsers throw one to report a problem where they found
/// it and collect them into a `DiagnosticError`.
public struct Diagnostic: Error, Equatable, Sendable {
    public var location: SourceLocation
    public var width: Int
    public var message: String
    public var sourceLine: SourceLine?

    public init(_ message: String, at location: SourceLocation, width: Int = 1) {
        self.message = message
        self.location = location
        self.width = max(1, width)
    }

    /// `path:line:column: error: message`, the format compilers and editors understand.
    public func formatted(path: String) -> String {
        "\(Printable.escape(path, limit: 4096)):\(location.line):\(location.column): error: \(message)"
    }

    /// The one-line form followed by the source line and a caret under the offending text:
    ///
    ///     .devenv/devenv.toml:3:3: error: unknown key 'stpe' (did you mean 'step'?)
    ///      3 | [[stpe]]
    ///        |   ^~~~
    public func rendered(path: String) -> String {
        var out = formatted(path: path)
        guard let sourceLine else { return out }
        let number = String(location.line)
        let gutter = String(repeating: " ", count: number.count)
        out += "\n \(number) | \(sourceLine.text)"
        out += "\n \(gutter) | " + String(repeating: " ", count: sourceLine.caretColumn)
        out += "^" + String(repeating: "~", count: max(0, min(width, sourceLine.remainingWidth) - 1))
        return out
    }
}

/// A source line prepared for display: escaped, tabs turned into spaces, with the display
/// column of the diagnostic's location and how many display columns remain after it.
public struct SourceLine: Equatable, Sendable {
    public var text: String
    public var caretColumn: Int
    public var remainingWidth: Int

    /// Bytes of context kept on each side of the caret, so a 1 MiB line costs nothing.
    static let context = 120

    /// Cuts the line containing `location` out of `source` (at most `context` bytes each
    /// side of the caret, marked with `…` where clipped) and escapes it.
    static func extract(from source: [UInt8], at location: SourceLocation) -> SourceLine? {
        guard location.offset <= source.count else { return nil }
        let caret = location.offset
        var start = caret
        while start > 0 && source[start - 1] != UInt8(ascii: "\n") && caret - start < context { start -= 1 }
        let clippedStart = start > 0 && source[start - 1] != UInt8(ascii: "\n")
        while start < caret && source[start] & 0xC0 == 0x80 { start += 1 }  // not mid-character
        if start == 0 && source.starts(with: UTF8Validator.byteOrderMark) { start = min(3, caret) }
        var end = caret
        while end < source.count && source[end] != UInt8(ascii: "\n") && source[end] != UInt8(ascii: "\r") && end - caret < context { end += 1 }
        let clippedEnd = end < source.count && source[end] != UInt8(ascii: "\n") && source[end] != UInt8(ascii: "\r")
        while end > caret && end < source.count && source[end] & 0xC0 == 0x80 { end -= 1 }
        let before = (clippedStart ? "…" : "") + display(source[start..<caret])
        let after = display(source[caret..<end])
        return SourceLine(text: before + after + (clippedEnd ? "…" : ""), caretColumn: before.unicodeScalars.count,
                          remainingWidth: max(1, after.unicodeScalars.count))
    }

    /// Escapes bytes that may not be UTF-8 scalar by scalar where they decode and as `\xNN`
    /// where they do not. Tabs become spaces and backslashes stay as they are, so the line
    /// reads as it does in an editor and the caret stays aligned.
    private static func display(_ bytes: ArraySlice<UInt8>) -> String {
        var out = ""
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if let (scalar, length) = UTF8Validator.decode(bytes, at: index) {
                if scalar == "\t" {
                    out += " "
                } else if scalar == "\\" {
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
}

/// Everything wrong with a project file: the first syntax error, or all schema errors at
/// once. The error type of the front ends that read project files (DevenvManifest calls it
/// `ManifestError`; DevenvAdopt throws it for Dockerfiles and devcontainer.json).
public struct DiagnosticError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path shown in messages, as the caller supplied it (e.g. `.devenv/devenv.toml`).
    public var path: String
    public var diagnostics: [Diagnostic]

    public init(path: String, diagnostics: [Diagnostic]) {
        self.path = path
        self.diagnostics = diagnostics
    }

    /// One line per diagnostic.
    public var description: String {
        diagnostics.map { $0.formatted(path: path) }.joined(separator: "\n")
    }

    /// Each diagnostic with its source line and a caret, separated by blank lines.
    public func render() -> String {
        diagnostics.map { $0.rendered(path: path) }.joined(separator: "\n\n")
    }

    /// The error for `diagnostics` in `source`, sorted by position, with their source lines.
    public init(path: String, source: [UInt8], diagnostics: [Diagnostic]) {
        self.init(path: path, diagnostics: diagnostics.sorted { $0.location < $1.location })
        attachSource(source)
    }

    /// Fills in the source lines of diagnostics that lack them.
    public mutating func attachSource(_ source: [UInt8]) {
        for index in diagnostics.indices where diagnostics[index].sourceLine == nil {
            diagnostics[index].sourceLine = SourceLine.extract(from: source, at: diagnostics[index].location)
        }
    }
}
