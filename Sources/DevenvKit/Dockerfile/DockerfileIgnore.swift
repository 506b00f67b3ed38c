import Foundation

/// `.dockerignore` rules: one pattern per line (`#` comments and blank lines skipped), a
/// leading `!` re-includes, the last matching pattern wins, and a pattern that matches a
/// directory matches everything below it. Patterns use `*`, `?`, `[...]` within one path
/// component and `**` for any number of components, relative to the context root.
struct DockerfileIgnore: Sendable {
    struct Rule: Sendable {
        var segments: [String]
        var exclude: Bool
    }

    let rules: [Rule]

    /// True when some rule re-includes paths: an excluded directory must still be walked.
    var hasExceptions: Bool { rules.contains { !$0.exclude } }

    init(_ text: String) {
        var rules: [Rule] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line = String(line.dropLast()).trimmingCharacters(in: .whitespaces) }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var exclude = true
            if line.hasPrefix("!") {
                exclude = false
                line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            let segments = Self.clean(line)
            if segments.isEmpty { continue }
            rules.append(Rule(segments: segments, exclude: exclude))
        }
        self.rules = rules
    }

    /// Whether the context-relative `path` is left out of the context.
    func excludes(_ path: String) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        var excluded = false
        for rule in rules {
            // The path itself, or any directory above it.
            let matches = (1...max(1, components.count)).contains { count in
                Glob.match(rule.segments, Array(components.prefix(count)))
            }
            if matches { excluded = rule.exclude }
        }
        return excluded
    }

    /// Path segments as Go's filepath.Clean leaves them, without a leading `/`.
    static func clean(_ pattern: String) -> [String] {
        var parts: [String] = []
        for part in pattern.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(String(part))
        }
        return parts
    }
}

/// Shell-style matching of path components, as Go's `filepath.Match` with `**`.
enum Glob {
    static func hasWildcards(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Pattern segments against path components; `**` spans zero or more components.
    /// Dynamic programming over (pattern, path) positions, so `**/a/**/a/**/…` against a
    /// deep path stays quadratic instead of exponential.
    static func match(_ pattern: [String], _ path: [String]) -> Bool {
        let patterns = pattern.map { $0 == "**" ? nil : Array($0.unicodeScalars) }
        let components = path.map { Array($0.unicodeScalars) }
        // matches[j]: pattern[i...] matches path[j...], computed for i from the end.
        var matches = [Bool](repeating: false, count: components.count + 1)
        matches[components.count] = true
        for segment in patterns.reversed() {
            var next = [Bool](repeating: false, count: components.count + 1)
            for j in stride(from: components.count, through: 0, by: -1) {
                if let segment {
                    next[j] = j < components.count && matches[j + 1] && matchComponent(segment, components[j])
                } else {
                    next[j] = matches[j] || (j < components.count && next[j + 1])
                }
            }
            matches = next
        }
        return matches[0]
    }

    /// One component: `*` (any run), `?` (one character), `[abc]`, `[a-z]`, `[^x]`, `\x`.
    static func matchComponent(_ pattern: [Unicode.Scalar], _ name: [Unicode.Scalar]) -> Bool {
        var p = 0
        var n = 0
        var starP = -1
        var starN = 0
        while n < name.count {
            if p < pattern.count {
                switch pattern[p] {
                case "*":
                    starP = p
                    starN = n
                    p += 1
                    continue
                case "?":
                    p += 1
                    n += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(pattern, p, name[n]) {
                        if matched { p = next; n += 1; continue }
                    } else if name[n] == "[" {
                        p += 1; n += 1; continue
                    }
                case "\\" where p + 1 < pattern.count:
                    if pattern[p + 1] == name[n] { p += 2; n += 1; continue }
                default:
                    if pattern[p] == name[n] { p += 1; n += 1; continue }
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starN += 1
            n = starN
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// A `[...]` class at `start`: whether `scalar` is in it, and the index after `]`; nil
    /// when the class is not closed.
    private static func matchClass(_ pattern: [Unicode.Scalar], _ start: Int, _ scalar: Unicode.Scalar) -> (Bool, Int)? {
        var index = start + 1
        var negate = false
        if index < pattern.count && (pattern[index] == "^" || pattern[index] == "!") {
            negate = true
            index += 1
        }
        var matched = false
        var first = true
        while index < pattern.count && (pattern[index] != "]" || first) {
            first = false
            var low = pattern[index]
            if low == "\\" && index + 1 < pattern.count { index += 1; low = pattern[index] }
            var high = low
            if index + 2 < pattern.count && pattern[index + 1] == "-" && pattern[index + 2] != "]" {
                high = pattern[index + 2]
                if high == "\\" && index + 3 < pattern.count { index += 1; high = pattern[index + 2] }
                index += 2
            }
            if low <= scalar && scalar <= high { matched = true }
            index += 1
        }
        guard index < pattern.count else { return nil }
        return (matched != negate, index + 1)
    }
}
