/// A line diff of two texts (`devenv lock --diff`), in unified style: `-` for lines only in
/// the old text, `+` only in the new, with up to `context` unchanged lines around each
/// change and `@@` headers naming the lines. Pure; quadratic in the line counts, which is
/// fine for a lock file.
public enum LineDiff {
    public static func unified(old: String, new: String, oldName: String, newName: String, context: Int = 2) -> String {
        let a = lines(old), b = lines(new)
        let edits = script(a, b)
        guard edits.contains(where: { $0.kind != .same }) else { return "" }
        var output = ["--- \(oldName)", "+++ \(newName)"]
        var index = 0
        while index < edits.count {
            guard edits[index].kind != .same else { index += 1; continue }
            var start = max(0, index - context)
            var end = index
            // Extend the hunk while the next change is within two contexts.
            while end < edits.count {
                if edits[end].kind != .same { end += 1; continue }
                var next = end
                while next < edits.count && edits[next].kind == .same { next += 1 }
                if next < edits.count && next - end <= 2 * context { end = next } else { break }
            }
            let stop = min(edits.count, end + context)
            if start < 0 { start = 0 }
            output.append("@@ -\(edits[start].oldLine + 1) +\(edits[start].newLine + 1) @@")
            for edit in edits[start..<stop] {
                switch edit.kind {
                case .same: output.append(" " + edit.text)
                case .removed: output.append("-" + edit.text)
                case .added: output.append("+" + edit.text)
                }
            }
            index = stop
        }
        return output.joined(separator: "\n") + "\n"
    }

    struct Edit {
        enum Kind { case same, removed, added }
        var kind: Kind
        var text: String
        /// Where the edit stands in each text (0-based).
        var oldLine: Int
        var newLine: Int
    }

    static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The longest common subsequence, walked into removals, additions and common lines.
    static func script(_ a: [String], _ b: [String]) -> [Edit] {
        var lengths = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(Edit(kind: .same, text: a[i], oldLine: i, newLine: j)); i += 1; j += 1
            } else if i < a.count, j == b.count || lengths[i + 1][j] >= lengths[i][j + 1] {
                edits.append(Edit(kind: .removed, text: a[i], oldLine: i, newLine: j)); i += 1
            } else {
                edits.append(Edit(kind: .added, text: b[j], oldLine: i, newLine: j)); j += 1
            }
        }
        return edits
    }
}
