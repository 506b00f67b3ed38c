import DevenvText

/// `.dockerignore` as Docker reads it (moby/patternmatcher and its ignorefile reader): one
/// pattern per line, a line starting with `#` is a comment, blanks around a pattern are
/// trimmed, `!` re-includes, each pattern is cleaned like Go's filepath.Clean and made
/// relative, the last matching pattern wins, and a pattern that matches a directory matches
/// everything below it. A malformed pattern (`[`, `[]a]`, a trailing `\`, a lone `!`) is an
/// error at its line, as Docker refuses the build.
public struct DockerfileIgnore: Sendable {
    struct Rule: Sendable {
        var pattern: IgnorePattern
        var exclusion: Bool
    }

    let rules: [Rule]

    /// True when some rule re-includes paths: an excluded directory must still be walked.
    public var hasExceptions: Bool { rules.contains { $0.exclusion } }

    /// - Throws: `DiagnosticError` named after `path`, at the line of each malformed pattern.
    public init(_ bytes: [UInt8], path: String) throws {
        var rules: [Rule] = []
        var diagnostics: [Diagnostic] = []
        var offset = bytes.starts(with: UTF8Validator.byteOrderMark) ? 3 : 0
        var number = 0
        while offset < bytes.count {
            let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var line = bytes[offset..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            number += 1
            let location = SourceLocation(line: number, column: 1, offset: offset)
            offset = end + 1
            do {
                if let rule = try Self.rule(String(decoding: line, as: UTF8.self)) { rules.append(rule) }
            } catch {
                diagnostics.append(Diagnostic(error.description, at: location, width: line.count))
            }
        }
        guard diagnostics.isEmpty else { throw DiagnosticError(path: path, source: bytes, diagnostics: diagnostics) }
        self.rules = rules
    }

    /// One line, as ignorefile.ReadAll then NewPatternMatcher read it.
    private static func rule(_ line: String) throws(IgnorePattern.Malformed) -> Rule? {
        if line.hasPrefix("#") { return nil }
        var text = trimmed(line)
        if text.isEmpty { return nil }
        let exclusion = text.hasPrefix("!")
        if exclusion { text = trimmed(String(text.dropFirst())) }
        if !text.isEmpty {
            text = cleaned(text)
            if text.count > 1 && text.hasPrefix("/") { text.removeFirst() }
        }
        if exclusion && text.isEmpty { throw IgnorePattern.Malformed(description: "illegal exclusion pattern: \"!\"") }
        return Rule(pattern: try IgnorePattern(text), exclusion: exclusion)
    }

    /// Whether the context-relative `path` is left out of the context.
    public func excludes(_ path: String) -> Bool {
        let cleanPath = Self.cleaned(path)
        let components = cleanPath.split(separator: "/", omittingEmptySubsequences: false)
        let parents = (1..<max(1, components.count)).map { components.prefix($0).joined(separator: "/") }
        var excluded = false
        for rule in rules where rule.exclusion == excluded {
            if rule.pattern.matches(cleanPath) || parents.contains(where: rule.pattern.matches) {
                excluded = !rule.exclusion
            }
        }
        return excluded
    }

    private static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// Go's filepath.Clean: no empty, `.` or inner `..` elements, no trailing `/`, `..` kept
    /// at the start of a relative path and dropped at the root; `.` for nothing.
    static func cleaned(_ path: String) -> String {
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." { parts.removeLast() } else if !rooted { parts.append(part) }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

/// One cleaned `.dockerignore` pattern compiled as patternmatcher compiles it: `*` and `?`
/// never match `/`, `**` matches any number of directories (also in the middle of a segment,
/// `a**/*.txt`), a trailing `**` after literal text is a prefix (`abc/**` matches what is
/// below `abc` but not `abc`), a leading `**` before literal text a suffix.
struct IgnorePattern: Sendable {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    enum Kind: Sendable {
        case exact(String)
        case prefix(String)
        case suffix(String)
        case tokens([Token])
    }

    enum Token: Equatable, Sendable {
        case literal(Unicode.Scalar)
        /// `?`
        case notSlash
        /// `*`
        case notSlashRun
        /// `**` before more pattern: `(.*/)?`
        case directories
        /// `**` at the end: `.*`
        case anything
        case set(CharacterSet, negated: Bool)
    }

    struct CharacterSet: Equatable, Sendable {
        var ranges: [ClosedRange<Unicode.Scalar>]
        func contains(_ scalar: Unicode.Scalar) -> Bool { ranges.contains { $0.contains(scalar) } }
    }

    let kind: Kind

    init(_ pattern: String) throws(Malformed) {
        let scalars = Array(pattern.unicodeScalars)
        try Self.validate(scalars)
        var tokens: [Token] = []
        var literalOnly = true
        var kind: Kind?
        var index = 0
        var step = 0
        while index < scalars.count {
            defer { step += 1 }
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*" where index < scalars.count && scalars[index] == "*":
                index += 1
                if index < scalars.count && scalars[index] == "/" { index += 1 }
                if index == scalars.count {
                    if literalOnly {
                        kind = .prefix(String(String.UnicodeScalarView(scalars[..<(scalars.count - 2)])))
                    } else {
                        tokens.append(.anything)
                        kind = nil
                    }
                } else {
                    tokens.append(.directories)
                    kind = nil
                }
                literalOnly = false
                if step == 0 { kind = .suffix(String(String.UnicodeScalarView(scalars[2...]))) }
            case "*":
                tokens.append(.notSlashRun)
                literalOnly = false
                kind = nil
            case "?":
                tokens.append(.notSlash)
                literalOnly = false
                kind = nil
            case "\\":
                guard index < scalars.count else { throw Malformed(description: "syntax error in pattern") }
                tokens.append(.literal(scalars[index]))
                index += 1
                literalOnly = false
                kind = nil
            case "[":
                let (set, next) = Self.set(scalars, from: index)
                tokens.append(set)
                index = next
                literalOnly = false
                kind = nil
            default:
                tokens.append(.literal(scalar))
            }
        }
        if literalOnly { kind = .exact(pattern) }
        self.kind = kind ?? .tokens(tokens)
    }

    func matches(_ path: String) -> Bool {
        switch kind {
        case let .exact(text): return path == text
        case let .prefix(text): return path.hasPrefix(text)
        case let .suffix(text): return path.hasSuffix(text) || (text.hasPrefix("/") && path == String(text.dropFirst()))
        case let .tokens(tokens): return Self.match(tokens, Array(path.unicodeScalars))
        }
    }

    /// Simulates the token automaton over the path: linear in (tokens × path length).
    private static func match(_ tokens: [Token], _ path: [Unicode.Scalar]) -> Bool {
        // States: 2i is "before token i"; 2i+1 is "inside the `(.*/)?` of token i".
        let count = tokens.count
        func close(_ states: inout [Bool]) {
            for i in 0..<count where states[2 * i] {
                switch tokens[i] {
                case .notSlashRun, .anything, .directories:
                    states[2 * i + 2] = true
                    if tokens[i] == .directories { states[2 * i + 1] = true }
                default: break
                }
            }
        }
        var states = [Bool](repeating: false, count: 2 * count + 2)
        states[0] = true
        close(&states)
        for scalar in path {
            var next = [Bool](repeating: false, count: 2 * count + 2)
            for i in 0..<count {
                if states[2 * i + 1] {
                    // Inside `(.*/)?`: any character but a newline stays, a `/` may end it.
                    if scalar != "\n" { next[2 * i + 1] = true }
                    if scalar == "/" { next[2 * i + 2] = true }
                }
                guard states[2 * i] else { continue }
                switch tokens[i] {
                case let .literal(expected): if scalar == expected { next[2 * i + 2] = true }
                case .notSlash: if scalar != "/" { next[2 * i + 2] = true }
                case .notSlashRun: if scalar != "/" { next[2 * i] = true }
                case .anything: if scalar != "\n" { next[2 * i] = true }
                case .directories: break
                case let .set(set, negated): if set.contains(scalar) != negated { next[2 * i + 2] = true }
                }
            }
            close(&next)
            states = next
            guard states.contains(true) else { return false }
        }
        return states[2 * count]
    }

    /// A `[...]` already validated: `^` negates, `a-z` ranges, `\x` escapes.
    private static func set(_ scalars: [Unicode.Scalar], from start: Int) -> (Token, Int) {
        var index = start
        var negated = false
        if index < scalars.count && scalars[index] == "^" { negated = true; index += 1 }
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var count = 0
        func character() -> Unicode.Scalar {
            if scalars[index] == "\\" { index += 1 }
            defer { index += 1 }
            return scalars[index]
        }
        while !(scalars[index] == "]" && count > 0) {
            let low = character()
            var high = low
            if scalars[index] == "-" {
                index += 1
                high = character()
            }
            // A reversed range (`[z-a]`) is valid and matches nothing, as in Go.
            if low <= high { ranges.append(low...high) }
            count += 1
        }
        return (.set(CharacterSet(ranges: ranges), negated: negated), index + 1)
    }

    /// What Go's filepath.Match rejects as ErrBadPattern, checked chunk by chunk as it does.
    private static func validate(_ scalars: [Unicode.Scalar]) throws(Malformed) {
        let bad = Malformed(description: "syntax error in pattern")
        var index = 0
        func escaped() throws(Malformed) {
            // getEsc: a class character, which may not be missing, `-` or `]`.
            guard index < scalars.count, scalars[index] != "-", scalars[index] != "]" else { throw bad }
            if scalars[index] == "\\" {
                index += 1
                guard index < scalars.count else { throw bad }
            }
            index += 1
            guard index < scalars.count else { throw bad }
        }
        while index < scalars.count {
            switch scalars[index] {
            case "[":
                index += 1
                if index < scalars.count && scalars[index] == "^" { index += 1 }
                var ranges = 0
                while true {
                    if index < scalars.count && scalars[index] == "]" && ranges > 0 { index += 1; break }
                    try escaped()
                    if scalars[index] == "-" {
                        index += 1
                        try escaped()
                    }
                    ranges += 1
                }
            case "\\":
                index += 2
                guard index <= scalars.count else { throw bad }
            default:
                index += 1
            }
        }
    }
}
