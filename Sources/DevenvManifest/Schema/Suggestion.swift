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

    /// The closest candidate (`NearestWord`), or the word a synonym names; nil when nothing
    /// is close enough.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        if let synonym = synonyms[lowered], candidates.contains(synonym) { return synonym }
        if let direct = NearestWord.nearest(to: lowered, among: candidates) { return direct }
        // A misspelt synonym (`enviroment`) still points at our word.
        let reachable = synonyms.filter { candidates.contains($0.value) }
        return NearestWord.nearest(to: lowered, among: reachable.keys.sorted()).flatMap { synonyms[$0] }
    }
}
