/// Shell-style matching of one path component, as Go's `filepath.Match` (COPY and ADD
/// source wildcards).
enum Glob {
    static func hasWildcards(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
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
