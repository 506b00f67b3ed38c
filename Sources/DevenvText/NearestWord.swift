/// "Did you mean" for every word a user types: manifest keys, subcommands, options, task
/// names. One definition of "close enough", so every suggestion devenv makes agrees.
public enum NearestWord {
    /// The candidate closest to `word` (ignoring case) when it is close enough to be a typo:
    /// one edit for candidates of up to three characters, two for longer ones, and never a
    /// word replaced entirely; the first of equally close candidates.
    public static func nearest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = self.distance(lowered, candidate.lowercased())
            let allowed = candidate.count <= 3 ? 1 : 2
            guard distance <= allowed, distance < max(lowered.count, 1) else { continue }
            if let best, best.distance <= distance { continue }
            best = (candidate, distance)
        }
        return best?.candidate
    }

    /// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions)
    /// over Unicode scalars, of at most the first 64 of each word, so the table stays small
    /// whatever a user or a file hands in.
    public static func distance(_ a: String, _ b: String) -> Int {
        let s = Array(a.unicodeScalars.prefix(64))
        let t = Array(b.unicodeScalars.prefix(64))
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var previousPrevious = [Int](repeating: 0, count: t.count + 1)
        var previous = Array(0...t.count)
        var current = [Int](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            current[0] = i
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && s[i - 1] == t[j - 2] && s[i - 2] == t[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[t.count]
    }
}
