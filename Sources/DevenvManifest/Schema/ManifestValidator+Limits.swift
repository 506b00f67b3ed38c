/// `[limits]`.
extension ManifestValidator {
    static let limitKeys = ["memory", "pids", "cpus", "shm-size"]

    mutating func readLimits(_ entry: TOMLEntry) -> Manifest.Limits? {
        let path = FieldPath.root.key("limits")
        guard let table = table(entry, path: path) else { return nil }
        checkKeys(table, allowed: Self.limitKeys, context: "[limits]")
        return Manifest.Limits(memory: table["memory"].flatMap { limit($0, path: path.key("memory")) },
                               pids: table["pids"].flatMap { limit($0, path: path.key("pids")) },
                               cpus: table["cpus"].flatMap { limit($0, path: path.key("cpus")) },
                               shmSize: table["shm-size"].flatMap { limit($0, path: path.key("shm-size")) })
    }

    /// A string (`"4g"`, `"max"`) or a number (`4096`, `1.5`), kept as text.
    private mutating func limit(_ entry: TOMLEntry, path: FieldPath) -> Located<String>? {
        let node = entry.node
        switch node.value {
        case .string:
            return string(entry, path: path, limit: 64)
        case let .integer(value):
            return Located(String(value), at: node.location)
        case let .float(value):
            return Located(String(value), at: node.location)
        default:
            wrongType(node, path: path, expected: "a string or a number")
            return nil
        }
    }
}
