import DevenvText

/// The pattern of `${VAR#pattern}`, `${VAR%pattern}` and `${VAR/pattern/replacement}` as
/// BuildKit's shell lexer reads it: `*` is any run and `?` any one character (neither spans
/// a newline, as the regular expression BuildKit builds), `\*`, `\?`, `\\` are literal,
/// `\}` and `\/` are the plain characters, any other escape is an error, and there are no
/// bracket expressions. Matching simulates the pattern as a small automaton, so a hostile
/// pattern costs at most (pattern length × text length) per start position.
struct ShellPattern {
    enum Token: Equatable {
        case literal(Unicode.Scalar)
        case any
        case star
    }

    let tokens: [Token]

    init(_ pattern: String) throws {
        var tokens: [Token] = []
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*": tokens.append(.star)
            case "?": tokens.append(.any)
            case "\\":
                guard index < scalars.count else {
                    throw ShellExpander.Failure(description: "invalid pattern (\(Printable.escape(pattern))) in substitution: invalid escape at the end")
                }
                let escaped = scalars[index]
                index += 1
                guard "*?\\}/".unicodeScalars.contains(escaped) else {
                    throw ShellExpander.Failure(description: "invalid pattern (\(Printable.escape(pattern))) in substitution: invalid escape '\\\(Printable.escape(String(escaped)))'")
                }
                tokens.append(.literal(escaped))
            default:
                tokens.append(.literal(scalar))
            }
        }
        self.tokens = tokens
    }

    /// `${VAR#p}` (`fromStart`) or `${VAR%p}`: the value without its shortest (or longest)
    /// prefix or suffix matching the pattern; unchanged when none matches.
    func trim(_ value: String, fromStart: Bool, longest: Bool) -> String {
        let text = Array(value.unicodeScalars)
        var result = ""
        if fromStart {
            guard let end = ends(in: text, from: 0, longest: longest) else { return value }
            result.unicodeScalars.append(contentsOf: text[end...])
        } else {
            // A suffix match is a prefix match of the reversed pattern on the reversed text.
            let reversed = ShellPattern(tokens: tokens.reversed())
            guard let length = reversed.ends(in: Array(text.reversed()), from: 0, longest: longest) else { return value }
            result.unicodeScalars.append(contentsOf: text[..<(text.count - length)])
        }
        return result
    }

    /// `${VAR/p/r}` replaces the leftmost longest match, `${VAR//p/r}` every match left to
    /// right; an empty match next to the previous match is not replaced again, as in Go's
    /// regexp.ReplaceAllString.
    func replace(in value: String, with replacement: String, all: Bool) -> String {
        let text = Array(value.unicodeScalars)
        var out = ""
        var lastEnd = 0
        var searchFrom = 0
        while searchFrom <= text.count, let (start, end) = leftmostMatch(in: text, from: searchFrom) {
            out.unicodeScalars.append(contentsOf: text[lastEnd..<start])
            if end > lastEnd || start == 0 { out += replacement }
            lastEnd = end
            guard all else { break }
            searchFrom = max(end, searchFrom + 1)
        }
        out.unicodeScalars.append(contentsOf: text[min(lastEnd, text.count)...])
        return out
    }

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    private func leftmostMatch(in text: [Unicode.Scalar], from: Int) -> (Int, Int)? {
        for start in from...text.count {
            if let end = ends(in: text, from: start, longest: true) { return (start, start + end) }
        }
        return nil
    }

    /// The length of the shortest or longest match of the whole pattern starting at `start`.
    private func ends(in text: [Unicode.Scalar], from start: Int, longest: Bool) -> Int? {
        // active[i]: the pattern's first i tokens match text[start..<position].
        var active = closure([Bool](repeating: false, count: tokens.count + 1), seeding: 0)
        var best: Int? = active[tokens.count] ? 0 : nil
        if best != nil && !longest { return 0 }
        var position = start
        while position < text.count && active.contains(true) {
            let scalar = text[position]
            var next = [Bool](repeating: false, count: tokens.count + 1)
            for i in 0..<tokens.count where active[i] {
                switch tokens[i] {
                case let .literal(expected): if scalar == expected { next[i + 1] = true }
                case .any: if scalar != "\n" { next[i + 1] = true }
                case .star: if scalar != "\n" { next[i] = true }
                }
            }
            active = closure(next, seeding: nil)
            position += 1
            if active[tokens.count] {
                best = position - start
                if !longest { return best }
            }
        }
        return best
    }

    /// A star may match nothing: being before it is being after it.
    private func closure(_ states: [Bool], seeding seed: Int?) -> [Bool] {
        var states = states
        if let seed { states[seed] = true }
        for i in 0..<tokens.count where states[i] && tokens[i] == .star { states[i + 1] = true }
        return states
    }
}
