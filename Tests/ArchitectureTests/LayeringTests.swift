import Foundation
import Testing

/// The module layering of docs/architecture.md, checked against the sources: every Swift
/// module under Sources/ has a row in the doc's "Layering" table, and imports only what its
/// row allows. A new import that breaks a rule (the builder reaching for TOML, a pure module
/// doing I/O, the static front end pulling in Foundation) fails here, not in review.
@Suite struct LayeringTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyModuleImportsOnlyWhatTheDocAllows() throws {
        let rules = try LayeringTable.parse(Self.read("docs/architecture.md"))
        let modules = try Self.swiftModules()
        #expect(!modules.isEmpty)
        for (module, imports) in modules {
            guard let allowed = rules[module] else {
                Issue.record("Sources/\(module) has no row in docs/architecture.md's Layering table")
                continue
            }
            for (imported, file) in imports.sorted(by: { $0.key < $1.key }) where !allowed.contains(imported) {
                Issue.record("\(file) imports \(imported), which the Layering table does not allow for \(module)")
            }
        }
        for module in rules.keys where modules[module] == nil {
            Issue.record("docs/architecture.md lists \(module), which is not a Swift module under Sources/")
        }
    }

    @Test func scannerReadsEveryImportForm() {
        let source = """
        import Foundation
        @_exported public import DevenvText
        @_exported import enum DevenvOCI.Digest
        /// import NotThis
        let text = "import NorThis"
        """
        #expect(ImportScanner.imports(in: source) == ["Foundation", "DevenvText", "DevenvOCI"])
    }

    @Test func tableParserReadsRowsAndRejectsDuplicates() throws {
        let doc = """
        ## Layering
        | module | may import |
        | --- | --- |
        | `A` | — |
        | `B` | `A`, `Glibc` |
        """
        let rules = try LayeringTable.parse(doc)
        #expect(rules == ["A": [], "B": ["A", "Glibc"]])
        #expect(throws: LayeringTable.Failure.self) { try LayeringTable.parse(doc + "\n| `A` | `B` |") }
        #expect(throws: LayeringTable.Failure.self) { try LayeringTable.parse("# no table") }
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// Module name -> imported module -> first file that imports it.
    static func swiftModules() throws -> [String: [String: String]] {
        let sources = repository.appendingPathComponent("Sources")
        var result: [String: [String: String]] = [:]
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted() {
            guard let walker = FileManager.default.enumerator(atPath: sources.appendingPathComponent(module).path)
            else { continue }
            var imports: [String: String]?
            while let relative = walker.nextObject() as? String {
                guard relative.hasSuffix(".swift") else { continue }
                let file = "Sources/\(module)/\(relative)"
                imports = imports ?? [:]
                for imported in ImportScanner.imports(in: try read(file)) where imports?[imported] == nil {
                    imports?[imported] = file
                }
            }
            if let imports { result[module] = imports }
        }
        return result
    }
}

/// The `import` declarations of one Swift file, attributes and access levels stripped
/// (`@_exported public import DevenvText` imports DevenvText).
enum ImportScanner {
    static func imports(in source: String) -> [String] {
        source.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                  words[..<index].allSatisfy({ $0.hasPrefix("@") || accessLevels.contains(String($0)) })
            else { return nil }
            // `import enum DevenvText.Printable` imports DevenvText.
            let module = declarationKinds.contains(String(words[index + 1])) && index + 2 < words.count
                ? words[index + 2] : words[index + 1]
            return String(module.split(separator: ".").first ?? "")
        }
    }

    static let accessLevels: Set<String> = ["public", "package", "internal", "fileprivate", "private"]
    static let declarationKinds: Set<String> = ["typealias", "struct", "class", "enum", "protocol", "let", "var", "func"]
}

/// The "Layering" table of docs/architecture.md: `| \`Module\` | \`Dep\`, \`Dep\` |` rows,
/// `—` for none.
enum LayeringTable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ doc: String) throws -> [String: Set<String>] {
        guard let start = doc.range(of: "## Layering") else {
            throw Failure(description: "docs/architecture.md has no '## Layering' section")
        }
        var rules: [String: Set<String>] = [:]
        for line in doc[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, cells[1].hasPrefix("`") else { continue }
            let module = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let allowed = cells[2].split(separator: ",")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "` ")) }
                .filter { !$0.isEmpty && $0 != "—" }
            guard rules.updateValue(Set(allowed), forKey: module) == nil else {
                throw Failure(description: "the Layering table lists \(module) twice")
            }
        }
        guard !rules.isEmpty else { throw Failure(description: "the Layering table has no rows") }
        return rules
    }
}
