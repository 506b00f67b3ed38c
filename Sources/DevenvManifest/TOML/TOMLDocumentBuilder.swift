/// One part of a (possibly dotted) key as written.
struct KeyPart {
    var name: String
    var location: SourceLocation
    var width: Int
}

/// Builds the table tree while enforcing TOML's definition rules: no duplicate keys, no table
/// defined twice, inline tables and static arrays are closed, dotted keys and `[headers]`
/// do not reopen each other's tables. Tables live in an arena and refer to each other by
/// index, so the parser can append to any table without copying the tree; `finish()` turns
/// the arena into value types.
struct TOMLDocumentBuilder {
    typealias TableID = Int

    enum Kind {
        case root, implicit, header, arrayElement, dotted, inline
    }

    enum Slot {
        case value(TOMLNode)
        case table(TableID)
        case tableArray([TableID])
    }

    struct Entry {
        var key: String
        var keyLocation: SourceLocation
        var keyWidth: Int
        var slot: Slot
    }

    struct Table {
        var kind: Kind
        var location: SourceLocation
        var width: Int
        var depth: Int
        var path: [String]
        var entries: [Entry] = []
        var index: [String: Int] = [:]
    }

    private(set) var tables: [Table] = [Table(kind: .root, location: .start, width: 1, depth: 0, path: [])]
    let maxDepth: Int

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
    }

    static let root: TableID = 0

    func depth(of table: TableID) -> Int { tables[table].depth }
    func path(of table: TableID) -> [String] { tables[table].path }

    // MARK: - [table] and [[array of tables]]

    /// `[a.b.c]`: returns the table that following key/value pairs go into.
    mutating func defineTable(_ key: [KeyPart], at location: SourceLocation, width: Int) throws -> TableID {
        let parent = try walkHeader(key.dropLast(), headerKey: key)
        let last = key[key.count - 1]
        let path = tables[parent].path + [last.name]
        guard let existing = tables[parent].index[last.name] else {
            return try addTable(.header, named: last, in: parent, at: location, width: width)
        }
        let entry = tables[parent].entries[existing]
        switch entry.slot {
        case let .table(id):
            switch tables[id].kind {
            case .implicit:
                tables[id].kind = .header
                tables[id].location = location
                tables[id].width = width
                return id
            case .dotted:
                throw Diagnostic("table [\(Self.display(path))] was already defined by dotted keys at \(entry.keyLocation)", at: last.location, width: last.width)
            default:
                throw Diagnostic("table [\(Self.display(path))] is defined twice (first at \(tables[id].location))", at: last.location, width: last.width)
            }
        case .tableArray:
            throw Diagnostic("[\(Self.display(path))] conflicts with the array of tables [[\(Self.display(path))]] defined at \(entry.keyLocation)", at: last.location, width: last.width)
        case let .value(node):
            throw Self.conflict(with: node, path: path, wanted: "define table [\(Self.display(path))]", at: last)
        }
    }

    /// `[[a.b.c]]`: appends a table to the array and returns it.
    mutating func appendArrayTable(_ key: [KeyPart], at location: SourceLocation, width: Int) throws -> TableID {
        let parent = try walkHeader(key.dropLast(), headerKey: key)
        let last = key[key.count - 1]
        let path = tables[parent].path + [last.name]
        guard let existing = tables[parent].index[last.name] else {
            let id = try newTable(.arrayElement, path: path, parent: parent, extraDepth: 1, at: location, width: width)
            insert(Entry(key: last.name, keyLocation: last.location, keyWidth: last.width, slot: .tableArray([id])), into: parent)
            return id
        }
        let entry = tables[parent].entries[existing]
        switch entry.slot {
        case var .tableArray(ids):
            let id = try newTable(.arrayElement, path: path, parent: parent, extraDepth: 1, at: location, width: width)
            ids.append(id)
            tables[parent].entries[existing].slot = .tableArray(ids)
            return id
        case let .table(id):
            throw Diagnostic("[[\(Self.display(path))]] conflicts with the table [\(Self.display(path))] defined at \(tables[id].location)", at: last.location, width: last.width)
        case let .value(node):
            throw Self.conflict(with: node, path: path, wanted: "append to [[\(Self.display(path))]]", at: last)
        }
    }

    /// Follows the leading parts of a header key, creating implicit tables and descending
    /// into the last element of arrays of tables.
    private mutating func walkHeader(_ parts: ArraySlice<KeyPart>, headerKey: [KeyPart]) throws -> TableID {
        var current = Self.root
        for part in parts {
            let path = tables[current].path + [part.name]
            guard let existing = tables[current].index[part.name] else {
                current = try addTable(.implicit, named: part, in: current, at: part.location, width: part.width)
                continue
            }
            switch tables[current].entries[existing].slot {
            case let .table(id):
                current = id
            case let .tableArray(ids):
                current = ids[ids.count - 1]
            case let .value(node):
                throw Self.conflict(with: node, path: path, wanted: "define table [\(Self.display(headerKey.map(\.name)))]", at: part)
            }
        }
        return current
    }

    // MARK: - key = value

    /// Inserts `node` under a possibly dotted key in `table`.
    mutating func insert(_ node: TOMLNode, at key: [KeyPart], in table: TableID) throws {
        var current = table
        for part in key.dropLast() {
            let path = tables[current].path + [part.name]
            guard let existing = tables[current].index[part.name] else {
                current = try addTable(.dotted, named: part, in: current, at: part.location, width: part.width)
                continue
            }
            let entry = tables[current].entries[existing]
            switch entry.slot {
            case let .table(id) where tables[id].kind == .dotted:
                current = id
            case let .table(id):
                throw Diagnostic("cannot add to table [\(Self.display(path))] with dotted keys: it is defined by a header at \(tables[id].location)", at: part.location, width: part.width)
            case .tableArray:
                throw Diagnostic("cannot add to the array of tables [[\(Self.display(path))]] (defined at \(entry.keyLocation)) with dotted keys", at: part.location, width: part.width)
            case let .value(node):
                throw Self.conflict(with: node, path: path, wanted: "add key '\(Self.display(tables[table].path + key.map(\.name)))'", at: part)
            }
        }
        let last = key[key.count - 1]
        if let existing = tables[current].index[last.name] {
            let path = tables[current].path + [last.name]
            throw Diagnostic("duplicate key '\(Self.display(path))' (first defined at \(tables[current].entries[existing].keyLocation))", at: last.location, width: last.width)
        }
        insert(Entry(key: last.name, keyLocation: last.location, keyWidth: last.width, slot: .value(node)), into: current)
    }

    // MARK: - Inline tables

    /// Starts an inline table whose contents are then added with `insert`.
    mutating func beginInlineTable(path: [String], depth: Int, at location: SourceLocation) -> TableID {
        tables.append(Table(kind: .inline, location: location, width: 1, depth: depth, path: path))
        return tables.count - 1
    }

    /// The finished inline table as a value; it can no longer be extended.
    func inlineTable(_ id: TableID) -> TOMLValue {
        .table(freeze(id))
    }

    // MARK: - Finishing

    func finish() -> TOMLTable { freeze(Self.root) }

    /// Recursion here follows table nesting, which `maxDepth` bounds.
    private func freeze(_ id: TableID) -> TOMLTable {
        let table = tables[id]
        let entries = table.entries.map { entry in
            TOMLEntry(key: entry.key, keyLocation: entry.keyLocation, keyWidth: entry.keyWidth, node: node(for: entry.slot))
        }
        return TOMLTable(origin: Self.origin(of: table.kind), entries: entries)
    }

    private func node(for slot: Slot) -> TOMLNode {
        switch slot {
        case let .value(node):
            return node
        case let .table(id):
            return TOMLNode(.table(freeze(id)), at: tables[id].location, width: tables[id].width)
        case let .tableArray(ids):
            let elements = ids.map { TOMLNode(.table(freeze($0)), at: tables[$0].location, width: tables[$0].width) }
            return TOMLNode(.array(elements), at: elements[0].location, width: elements[0].width)
        }
    }

    private static func origin(of kind: Kind) -> TOMLTable.Origin {
        switch kind {
        case .root: return .root
        case .implicit: return .implicit
        case .header: return .header
        case .arrayElement: return .arrayHeader
        case .dotted: return .dotted
        case .inline: return .inline
        }
    }

    // MARK: - Helpers

    private mutating func addTable(_ kind: Kind, named part: KeyPart, in parent: TableID, at location: SourceLocation, width: Int) throws -> TableID {
        let id = try newTable(kind, path: tables[parent].path + [part.name], parent: parent, extraDepth: 0, at: location, width: width)
        insert(Entry(key: part.name, keyLocation: part.location, keyWidth: part.width, slot: .table(id)), into: parent)
        return id
    }

    /// `extraDepth` counts the array level an array-of-tables element sits in.
    private mutating func newTable(_ kind: Kind, path: [String], parent: TableID, extraDepth: Int, at location: SourceLocation, width: Int) throws -> TableID {
        let depth = tables[parent].depth + 1 + extraDepth
        guard depth <= maxDepth else {
            throw Diagnostic(TOMLLimits.nestingMessage(maxDepth), at: location, width: width)
        }
        tables.append(Table(kind: kind, location: location, width: width, depth: depth, path: path))
        return tables.count - 1
    }

    private mutating func insert(_ entry: Entry, into table: TableID) {
        tables[table].index[entry.key] = tables[table].entries.count
        tables[table].entries.append(entry)
    }

    private static func conflict(with node: TOMLNode, path: [String], wanted: String, at part: KeyPart) -> Diagnostic {
        let name = display(path)
        let reason: String
        switch node.value {
        case .table:
            reason = "'\(name)' is an inline table (defined at \(node.location)), which cannot be extended"
        case .array:
            reason = "'\(name)' is a static array (defined at \(node.location))"
        default:
            reason = "'\(name)' is already \(node.value.typeDescription) (defined at \(node.location))"
        }
        return Diagnostic("cannot \(wanted): \(reason)", at: part.location, width: part.width)
    }

    static func display(_ path: [String]) -> String {
        path.map { TextEscaping.key($0) }.joined(separator: ".")
    }
}
