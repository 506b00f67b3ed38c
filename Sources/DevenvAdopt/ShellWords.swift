import DevenvText

/// Splitting an instruction's text into words the way the Dockerfile frontend does before
/// anything is expanded: whitespace separates words except inside quotes, and the escape
/// character keeps the next character in the word. Quotes and escapes stay in the words.
enum ShellWords {
    struct RawWord {
        var text: String
        /// Index of the word's first scalar in the text that was split.
        var start: Int
        var count: Int
    }

    static func split(_ scalars: [Unicode.Scalar], escape: Unicode.Scalar) -> [RawWord] {
        var words: [RawWord] = []
        var word = ""
        var start = 0
        var count = 0
        var inWord = false
        var quote: Unicode.Scalar?
        var blankOK = false
        var index = 0
        func finish() {
            if blankOK || !word.isEmpty { words.append(RawWord(text: word, start: start, count: count)) }
            word = ""
            inWord = false
            blankOK = false
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == open {
                    quote = nil
                } else if scalar == escape && open != "'" && index + 1 < scalars.count {
                    word.unicodeScalars.append(scalar)
                    index += 1
                }
                word.unicodeScalars.append(scalars[index])
            } else if !inWord {
                if SourceText.isBlank(scalar) || scalar == "\n" { index += 1; continue }
                inWord = true
                start = index
                continue
            } else if SourceText.isBlank(scalar) || scalar == "\n" {
                count = index - start
                finish()
                index += 1
                continue
            } else {
                if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    blankOK = true
                }
                if scalar == escape {
                    if index + 1 == scalars.count { index += 1; continue }
                    word.unicodeScalars.append(scalar)
                    index += 1
                }
                word.unicodeScalars.append(scalars[index])
            }
            index += 1
        }
        if inWord {
            count = index - start
            finish()
        }
        return words
    }

    struct HeredocMarker {
        var name: String
        var expand: Bool
        var chomp: Bool
        var location: SourceLocation
        var word: String
    }

    /// Words of the form `[n]<<[-]NAME`, found as BuildKit finds them: the line is split
    /// into words with quotes and escapes kept (always with `\\`, whatever the escape
    /// directive says), and NAME is what remains of the rest of the word after quote removal
    /// when that is one word (`<<"EOF X"` names `EOF X`; `<< EOF` is no heredoc). Any
    /// quoting character in NAME turns expansion off (`<<E"O"F`); an escape does not.
    static func heredocMarkers(in line: LogicalLine, escape: Unicode.Scalar) -> [HeredocMarker] {
        split(line.scalars, escape: "\\").compactMap { word in
            var rest = Substring(word.text)
            rest = rest.drop { ("0"..."9").contains($0) }
            guard rest.hasPrefix("<<") else { return nil }
            rest = rest.dropFirst(2)
            let chomp = rest.hasPrefix("-")
            if chomp { rest = rest.dropFirst() }
            guard !rest.isEmpty, !rest.contains("<") else { return nil }
            let unquoted = ShellExpander(escape: "\\", keepsUnset: true) { _ in nil }
            guard let names = try? unquoted.words(String(rest)), names.count == 1 else { return nil }
            return HeredocMarker(name: names[0], expand: !hasQuotingCharacter(rest), chomp: chomp,
                                 location: line.location(word.start), word: word.text)
        }
    }

    /// Whether `text` has a quote that is not escaped.
    private static func hasQuotingCharacter(_ text: Substring) -> Bool {
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "'" || character == "\"" {
                return true
            }
        }
        return false
    }
}

/// Variable substitution in Dockerfile words: `$NAME`, `${NAME}`, `${NAME:-word}`,
/// `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, `${NAME:?message}`, `${NAME?message}`,
/// `${NAME#pattern}`, `##`, `%`, `%%`, `${NAME/pattern/replacement}`, `//`, with single
/// quotes (literal), double quotes (expanding) and the escape character, as BuildKit's
/// shell lexer does. Quotes are removed from the result.
struct ShellExpander {
    /// `${A:-${B:-${C…}}}` nests; deeper than this is an error, not a stack overflow.
    static let maxDepth = 64

    let escape: Unicode.Scalar
    /// An unset variable stays as written (`$NAME`), as BuildKit's SkipUnsetEnv.
    var keepsUnset = false
    /// The value of a variable, or nil when it is unset.
    let lookup: (String) -> String?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// One word: quotes removed, variables expanded, whitespace kept.
    func word(_ text: String) throws -> String {
        var scanner = Scanner(Array(text.unicodeScalars))
        return try process(&scanner, stop: nil, depth: 0).text
    }

    /// Words split at unquoted whitespace after expansion (an unquoted variable's value
    /// splits too).
    func words(_ text: String) throws -> [String] {
        var scanner = Scanner(Array(text.unicodeScalars))
        return try process(&scanner, stop: nil, depth: 0).words
    }

    /// Heredoc content: variables expanded, quotes left alone, `\$` a literal `$`.
    func heredoc(_ text: String) throws -> String {
        var scanner = Scanner(Array(text.unicodeScalars))
        var out = ""
        while let scalar = scanner.peek() {
            if scalar == "$" {
                out += try dollar(&scanner, depth: 0)
            } else if scalar == escape, scanner.peek(1) == "$" {
                scanner.advance()
                out.unicodeScalars.append(scanner.next() ?? "$")
            } else {
                out.unicodeScalars.append(scanner.next() ?? scalar)
            }
        }
        return out
    }

    // MARK: Scanning

    struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
            index + ahead < scalars.count ? scalars[index + ahead] : nil
        }

        mutating func next() -> Unicode.Scalar? {
            guard index < scalars.count else { return nil }
            index += 1
            return scalars[index - 1]
        }

        mutating func advance() { index += 1 }
    }

    /// Word splitting bookkeeping: quoted text always makes (part of) a word, expanded
    /// text splits at whitespace.
    struct WordCollector {
        var words: [String] = []
        var current = ""
        var inWord = false

        mutating func add(_ scalar: Unicode.Scalar) {
            if SourceText.isBlank(scalar) || scalar == "\n" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                addRaw(scalar)
            }
        }

        mutating func addRaw(_ scalar: Unicode.Scalar) {
            current.unicodeScalars.append(scalar)
            inWord = true
        }

        mutating func addRaw(_ text: String) {
            current += text
            inWord = true
        }

        mutating func finish() -> [String] {
            if inWord { words.append(current) }
            return words
        }
    }

    /// `rawEscapes` keeps the escape character in the text (patterns read their own escapes).
    private func process(_ scanner: inout Scanner, stop: Unicode.Scalar?, depth: Int, rawEscapes: Bool = false) throws -> (text: String, words: [String]) {
        guard depth < Self.maxDepth else { throw Failure(description: "substitutions nested deeper than \(Self.maxDepth) levels") }
        var result = ""
        var words = WordCollector()
        while let scalar = scanner.peek() {
            if let stop, scalar == stop {
                scanner.advance()
                return (result, words.finish())
            }
            switch scalar {
            case "'":
                let text = try singleQuoted(&scanner)
                result += text
                words.addRaw(text)
            case "\"":
                let text = try doubleQuoted(&scanner, depth: depth)
                result += text
                words.addRaw(text)
            case "$":
                let text = try dollar(&scanner, depth: depth)
                result += text
                for character in text.unicodeScalars { words.add(character) }
            default:
                scanner.advance()
                if scalar == escape {
                    if rawEscapes { result.unicodeScalars.append(scalar) }
                    guard let escaped = scanner.next() else { break }
                    result.unicodeScalars.append(escaped)
                    words.addRaw(escaped)
                } else {
                    result.unicodeScalars.append(scalar)
                    words.add(scalar)
                }
            }
        }
        if let stop {
            throw Failure(description: stop == "}" ? "syntax error: missing '}'" : "syntax error: missing '\(stop)' in ${}")
        }
        return (result, words.finish())
    }

    private func singleQuoted(_ scanner: inout Scanner) throws -> String {
        scanner.advance()
        var text = ""
        while let scalar = scanner.next() {
            if scalar == "'" { return text }
            text.unicodeScalars.append(scalar)
        }
        throw Failure(description: "unexpected end of text while looking for the matching single quote")
    }

    private func doubleQuoted(_ scanner: inout Scanner, depth: Int) throws -> String {
        scanner.advance()
        var text = ""
        while let scalar = scanner.peek() {
            if scalar == "\"" {
                scanner.advance()
                return text
            }
            if scalar == "$" {
                text += try dollar(&scanner, depth: depth)
                continue
            }
            scanner.advance()
            if scalar == escape {
                guard let next = scanner.peek() else { continue }
                if next == "\"" || next == "$" || next == escape {
                    scanner.advance()
                    text.unicodeScalars.append(next)
                    continue
                }
            }
            text.unicodeScalars.append(scalar)
        }
        throw Failure(description: "unexpected end of text while looking for the matching double quote")
    }

    private func dollar(_ scanner: inout Scanner, depth: Int) throws -> String {
        let start = scanner.index
        func asWritten(_ scanner: Scanner) -> String {
            var text = ""
            text.unicodeScalars.append(contentsOf: scanner.scalars[start..<scanner.index])
            return text
        }
        scanner.advance()
        guard scanner.peek() == "{" else {
            let name = self.name(&scanner)
            if name.isEmpty { return "$" }
            return lookup(name) ?? (keepsUnset ? asWritten(scanner) : "")
        }
        scanner.advance()
        guard let first = scanner.peek() else { throw Failure(description: "syntax error: missing '}'") }
        if first == "{" || first == "}" || first == ":" { throw Failure(description: "syntax error: bad substitution") }
        let name = self.name(&scanner)
        guard var operation = scanner.next() else { throw Failure(description: "syntax error: missing '}'") }
        let value = lookup(name)
        switch operation {
        case "}":
            return value ?? (keepsUnset ? asWritten(scanner) : "")
        case "/":
            let all = scanner.peek() == "/"
            if all { scanner.advance() }
            let pattern = try process(&scanner, stop: "/", depth: depth + 1, rawEscapes: true).text
            let replacement = try process(&scanner, stop: "}", depth: depth + 1, rawEscapes: true).text
            if keepsUnset && value == nil { return asWritten(scanner) }
            return try ShellPattern(pattern).replace(in: value ?? "", with: replacement, all: all)
        default:
            var modifier = String(operation)
            let emptyCounts = operation == ":"
            if emptyCounts {
                guard let next = scanner.next() else { throw Failure(description: "syntax error: missing '}'") }
                operation = next
                modifier.unicodeScalars.append(next)
            }
            guard "-+?#%".unicodeScalars.contains(operation) else {
                throw Failure(description: "unsupported modifier '\(Printable.escape(modifier))' in substitution of '\(Printable.escape(name))'")
            }
            let trims = operation == "#" || operation == "%"
            var word = try process(&scanner, stop: "}", depth: depth + 1, rawEscapes: trims).text
            if keepsUnset && value == nil { return asWritten(scanner) }
            guard trims else { return try apply(operation, name: name, value: value, word: word, emptyCounts: emptyCounts) }
            // `#`/`%` remove the shortest match, `##`/`%%` the longest.
            let longest = word.unicodeScalars.first == operation
            if longest { word.unicodeScalars.removeFirst() }
            return try ShellPattern(word).trim(value ?? "", fromStart: operation == "#", longest: longest)
        }
    }

    /// `emptyCounts`: the `:` forms treat an empty value like an unset one.
    private func apply(_ modifier: Unicode.Scalar, name: String, value: String?, word: String, emptyCounts: Bool) throws -> String {
        let missing = value == nil || (emptyCounts && value == "")
        switch modifier {
        case "-": return missing ? word : value ?? ""
        case "+": return missing ? "" : word
        case "?":
            if value == nil { throw Failure(description: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
            if missing { throw Failure(description: "\(name): \(word.isEmpty ? "is not allowed to be empty" : word)") }
            return value ?? ""
        default:
            throw Failure(description: "unsupported modifier '\(Printable.escape(String(modifier)))' in substitution of '\(Printable.escape(name))'")
        }
    }

    /// A variable name: letters, digits and `_`; or a run of digits; or one special
    /// parameter character (which no Dockerfile variable can be named, so it expands empty).
    private func name(_ scanner: inout Scanner) -> String {
        var name = ""
        if let first = scanner.peek(), ("0"..."9").contains(first) {
            while let digit = scanner.peek(), ("0"..."9").contains(digit) {
                name.unicodeScalars.append(digit)
                scanner.advance()
            }
            return name
        }
        if let first = scanner.peek(), "*#@!?-$".unicodeScalars.contains(first) {
            scanner.advance()
            return String(first)
        }
        while let scalar = scanner.peek(), scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
            name.unicodeScalars.append(scalar)
            scanner.advance()
        }
        return name
    }
}
