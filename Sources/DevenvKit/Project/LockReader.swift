import DevenvManifest
import DevenvOCI

/// Typed reads from a parsed lock file; every failure names the file, the line and the key.
struct LockReader {
    let path: String

    func invalid(_ line: Int?, _ problem: String) -> KitError {
        KitError.invalidLockFile(path: path, line: line, problem: problem)
    }

    /// Version 1 locks were the first to carry the field; a lock without it is version 1 too.
    func version(_ root: TOMLTable) throws -> Int {
        guard let entry = root["version"] else { return 1 }
        guard case let .integer(value) = entry.node.value, value >= 1 else {
            throw invalid(entry.node.location.line, "'version' is not a positive integer")
        }
        return Int(clamping: value)
    }

    func string(_ table: TOMLTable, _ key: String, in section: String) throws -> String {
        guard let entry = table[key] else { throw invalid(nil, "\(section): missing '\(key)'") }
        guard let value = entry.node.value.stringValue else { throw invalid(entry.node.location.line, "\(section): '\(key)' is not a string") }
        return value
    }

    func digest(_ table: TOMLTable, _ key: String, in section: String) throws -> Digest {
        let text = try string(table, key, in: section)
        guard let digest = try? Digest(parsing: text) else {
            throw invalid(table[key]?.node.location.line, "\(section): invalid digest '\(Printable.escape(text))' for '\(Printable.escape(key))'")
        }
        return digest
    }

    func steps(_ root: TOMLTable) throws -> [LockedStep] {
        guard let entry = root["step"] else { return [] }
        guard let items = entry.node.value.arrayValue else { throw invalid(entry.node.location.line, "'step' is not an array of tables") }
        return try items.map { node in
            guard let table = node.value.tableValue else { throw invalid(node.location.line, "[[step]] is not a table") }
            return LockedStep(definition: try string(table, "definition", in: "[[step]]"), digest: try digest(table, "digest", in: "[[step]]"),
                              files: try list(table, "files") { try file($0) }, packages: try packages(table, "packages", in: "[[step]]"))
        }
    }

    /// A list of packages, one inline table each (a step's `packages`, the base's `installed`).
    func packages(_ table: TOMLTable, _ key: String, in section: String) throws -> [LockedPackage] {
        try list(table, key, in: section) { try package($0, in: "\(section) \(key)") }
    }

    private func list<T>(_ table: TOMLTable, _ key: String, in section: String = "[[step]]", _ read: (TOMLTable) throws -> T) throws -> [T] {
        guard let entry = table[key] else { return [] }
        guard let items = entry.node.value.arrayValue else { throw invalid(entry.node.location.line, "\(section) '\(key)' is not an array") }
        return try items.map { node in
            guard let item = node.value.tableValue else { throw invalid(node.location.line, "\(section) '\(key)' holds a value that is not a table") }
            return try read(item)
        }
    }

    private func file(_ table: TOMLTable) throws -> LockedFile {
        let modeText = try string(table, "mode", in: "[[step]] files")
        guard let mode = UInt32(modeText, radix: 8) else { throw invalid(table["mode"]?.node.location.line, "[[step]] files: invalid mode '\(Printable.escape(modeText))'") }
        return LockedFile(path: try string(table, "path", in: "[[step]] files"), digest: try digest(table, "digest", in: "[[step]] files"), mode: mode)
    }

    private func package(_ table: TOMLTable, in section: String) throws -> LockedPackage {
        LockedPackage(name: try string(table, "name", in: section), version: try string(table, "version", in: section),
                      architecture: try string(table, "architecture", in: section),
                      sha256: table["sha256"] == nil ? nil : try string(table, "sha256", in: section))
    }
}
