import DevenvText

/// Text as written in the Dockerfile, with where it starts.
public typealias Word = Located<String>

/// An inline document (`<<EOF` … `EOF`) attached to RUN, COPY or ADD.
public struct Heredoc: Equatable, Sendable {
    /// The terminator, unquoted (`EOF`); COPY uses it as the file name.
    public var name: String
    /// Every line up to the terminator, each ending in `\n`; `<<-` has stripped leading tabs.
    public var content: String
    /// False when the terminator was quoted (`<<'EOF'`): no variable expansion.
    public var expand: Bool
    /// `<<-`.
    public var chomp: Bool
    /// The `<<` that introduced it.
    public var location: SourceLocation
    /// The word as written (`<<-"EOF"`), for reconstituting a RUN for the shell.
    public var marker: String

    public init(name: String, content: String, expand: Bool, chomp: Bool, location: SourceLocation, marker: String) {
        self.name = name
        self.content = content
        self.expand = expand
        self.chomp = chomp
        self.location = location
        self.marker = marker
    }
}

/// One instruction before its arguments are interpreted.
struct RawInstruction {
    var keyword: Word
    var arguments: LogicalLine
    var heredocs: [Heredoc]
    var location: SourceLocation { keyword.location }
}

/// Splits a Dockerfile into instructions the way BuildKit's parser does: parser directives
/// at the very top, comments and blank lines skipped, continuation lines joined (comment
/// and blank lines inside a continuation are dropped), heredoc bodies read after the line
/// that opens them.
struct DockerfileLexer {
    static let heredocInstructions: Set<String> = ["RUN", "COPY", "ADD"]

    private let source: SourceText
    private(set) var escape: Unicode.Scalar = "\\"
    private(set) var directives: [String: String] = [:]
    private(set) var instructions: [RawInstruction] = []
    private(set) var diagnostics: [Diagnostic] = []
    private var index = 0

    init(source: SourceText) {
        self.source = source
    }

    mutating func run() {
        readDirectives()
        while index < source.lines.count {
            let line = source.lines[index]
            index += 1
            guard let start = line.scalars.firstIndex(where: { !SourceText.isBlank($0) }), line.scalars[start] != "#" else { continue }
            var logical = LogicalLine(end: line.location(start))
            var (end, continues) = continuation(line)
            logical.append(line, start..<max(start, end))
            while continues && index < source.lines.count {
                let next = source.lines[index]
                index += 1
                let first = next.scalars.firstIndex(where: { !SourceText.isBlank($0) })
                guard let first, next.scalars[first] != "#" else { continue }
                (end, continues) = continuation(next)
                logical.append(next, 0..<end)
            }
            if logical.scalars.allSatisfy(SourceText.isBlank) { continue }
            instruction(logical)
        }
    }

    // MARK: Directives

    /// `# escape=\`` and friends, only before the first instruction, comment or blank line.
    private mutating func readDirectives() {
        while index < source.lines.count {
            let line = source.lines[index]
            guard let (key, value, location) = Self.directive(line) else { return }
            index += 1
            let name = key.lowercased()
            if directives[name] != nil {
                report("only one '\(name)' parser directive can be used", at: location)
                continue
            }
            directives[name] = value
            if name == "escape" {
                if value == "\\" || value == "`" {
                    escape = value.unicodeScalars.first ?? "\\"
                } else {
                    report("invalid escape parser directive '\(Printable.escape(value))': it must be '\\' or '`'", at: location)
                }
            }
        }
    }

    /// `#` blanks `name` blanks `=` blanks `value`, where name is a letter then letters or digits.
    private static func directive(_ line: SourceText.Line) -> (String, String, SourceLocation)? {
        let scalars = line.scalars
        var cursor = 0
        func skipBlanks() { while cursor < scalars.count && SourceText.isBlank(scalars[cursor]) { cursor += 1 } }
        skipBlanks()
        guard cursor < scalars.count, scalars[cursor] == "#" else { return nil }
        cursor += 1
        skipBlanks()
        let nameStart = cursor
        while cursor < scalars.count, scalars[cursor].isASCII, scalars[cursor].properties.isAlphabetic || ("0"..."9").contains(scalars[cursor]) {
            cursor += 1
        }
        guard cursor > nameStart, scalars[nameStart].properties.isAlphabetic else { return nil }
        var name = ""
        name.unicodeScalars.append(contentsOf: scalars[nameStart..<cursor])
        skipBlanks()
        guard cursor < scalars.count, scalars[cursor] == "=" else { return nil }
        cursor += 1
        skipBlanks()
        var end = scalars.count
        while end > cursor && SourceText.isBlank(scalars[end - 1]) { end -= 1 }
        guard end > cursor else { return nil }
        var value = ""
        value.unicodeScalars.append(contentsOf: scalars[cursor..<end])
        return (name, value, line.location(nameStart))
    }

    // MARK: Lines

    /// Where the line's text ends and whether it continues: the escape character followed
    /// only by spaces or tabs at the end of a line joins the next line, unless it is itself
    /// escaped (`\\` at the end is a literal backslash, as in BuildKit).
    private func continuation(_ line: SourceText.Line) -> (Int, Bool) {
        var end = line.scalars.count
        while end > 0 && (line.scalars[end - 1] == " " || line.scalars[end - 1] == "\t") { end -= 1 }
        if end > 0 && line.scalars[end - 1] == escape && (end == 1 || line.scalars[end - 2] != escape) { return (end - 1, true) }
        return (line.scalars.count, false)
    }

    private mutating func instruction(_ line: LogicalLine) {
        var cursor = 0
        while cursor < line.scalars.count && !SourceText.isBlank(line.scalars[cursor]) { cursor += 1 }
        let keyword = line.word(0..<cursor)
        while cursor < line.scalars.count && SourceText.isBlank(line.scalars[cursor]) { cursor += 1 }
        var arguments = LogicalLine(end: line.end)
        arguments.scalars = Array(line.scalars[cursor...])
        arguments.locations = Array(line.locations[cursor...])
        var raw = RawInstruction(keyword: keyword, arguments: arguments, heredocs: [])
        if canContainHeredoc(keyword.value, arguments) {
            raw.heredocs = readHeredocs(arguments)
        }
        instructions.append(raw)
    }

    /// RUN, COPY and ADD (also after ONBUILD) in their shell form, as BuildKit decides
    /// before it looks for `<<` markers: an exec-form `["cat", "<<EOF"]` has no heredoc.
    private func canContainHeredoc(_ keyword: String, _ arguments: LogicalLine) -> Bool {
        var keyword = keyword.uppercased()
        var arguments = arguments.scalars[...]
        if keyword == "ONBUILD" {
            let start = arguments.firstIndex { !SourceText.isBlank($0) } ?? arguments.endIndex
            let end = arguments[start...].firstIndex(where: SourceText.isBlank) ?? arguments.endIndex
            var inner = ""
            inner.unicodeScalars.append(contentsOf: arguments[start..<end])
            keyword = inner.uppercased()
            arguments = arguments[end...]
        }
        guard Self.heredocInstructions.contains(keyword) else { return false }
        let words = Array(arguments)
        let rest = InstructionParser.argumentsStart(words, escape: escape)
        if case .strings = JSONArray.parse(Array(words[rest...])) { return false }
        return true
    }

    // MARK: Heredocs

    /// Bodies of the heredocs the line opens, read from the lines that follow it, in order.
    private mutating func readHeredocs(_ line: LogicalLine) -> [Heredoc] {
        var heredocs: [Heredoc] = []
        for marker in ShellWords.heredocMarkers(in: line, escape: escape) {
            var content = ""
            var terminated = false
            while index < source.lines.count {
                let body = source.lines[index]
                index += 1
                var text = ""
                text.unicodeScalars.append(contentsOf: body.scalars)
                var candidate = text
                if marker.chomp {
                    candidate = String(candidate.drop { $0 == "\t" })
                    text = candidate
                }
                if candidate == marker.name {
                    terminated = true
                    break
                }
                content += text + "\n"
            }
            if !terminated {
                report("unterminated heredoc: no line '\(Printable.escape(marker.name))' ends it", at: marker.location, width: marker.word.count)
            }
            heredocs.append(Heredoc(name: marker.name, content: content, expand: marker.expand, chomp: marker.chomp,
                                    location: marker.location, marker: marker.word))
        }
        return heredocs
    }

    private mutating func report(_ message: String, at location: SourceLocation, width: Int = 1) {
        diagnostics.append(Diagnostic(message, at: location, width: width))
    }
}
