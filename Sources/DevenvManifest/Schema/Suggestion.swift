/// "Did you mean" suggestions for unknown keys.
enum Suggestion {
    /// Words people reach for from other tools, mapped to ours.
    static let synonyms: [String: String] = [
        "environment": "env", "environ": "env", "vars": "env",
        "cwd": "workdir", "dir": "workdir", "directory": "workdir", "working_dir": "workdir",
        "cmd": "run", "command": "run", "script": "run", "exec": "run",
        "src": "copy", "source": "copy", "sources": "copy", "add": "copy",
        "dest": "to", "destination": "to", "target": "to",
        "install": "packages", "apt": "packages", "pkgs": "packages",
        "volumes": "mounts", "volume": "mounts", "binds": "mounts",
        "from": "image",
    ]

    /// The closest candidate by optimal-string-alignment distance (Damerau-Levenshtein
    /// with adjacent transpositions), ignoring case; nil when nothing is close enough.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        if let synonym = synonyms[lowered], candidates.contains(synonym) { return synonym }
        if let direct = nearest(to: lowered, among: candidates) { return direct }
        // A misspelt synonym (`enviroment`) still points at our word.
        let reachable = synonyms.filter { candidates.contains($0.value) }
        return nearest(to: lowered, among: reachable.keys.sorted()).flatMap { synonyms[$0] }
    }

    private static func nearest(to lowered: String, among candidates: [String]) -> String? {
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

    /// Optimal string alignment distance over Unicode scalars. Keys are at most 1 KiB
    /// (the parser's limit), and candidates are short, so the table stays small.
    static func distance(_ a: String, _ b: String) -> Int {
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
