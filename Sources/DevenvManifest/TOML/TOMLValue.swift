/// A parsed TOML value. Containers hold `TOMLNode`s so every nested value keeps its location.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case offsetDateTime(TOMLDate, TOMLTime, offsetMinutes: Int)
    case localDateTime(TOMLDate, TOMLTime)
    case localDate(TOMLDate)
    case localTime(TOMLTime)
    case array([TOMLNode])
    case table(TOMLTable)

    /// The type as an error message names it: "expected a string, found an integer".
    public var typeDescription: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .offsetDateTime: return "an offset date-time"
        case .localDateTime: return "a local date-time"
        case .localDate: return "a local date"
        case .localTime: return "a local time"
        case .array: return "an array"
        case .table: return "a table"
        }
    }

    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    public var tableValue: TOMLTable? {
        if case let .table(table) = self { return table }
        return nil
    }

    public var arrayValue: [TOMLNode]? {
        if case let .array(items) = self { return items }
        return nil
    }
}

/// A value and where it starts. `width` is the number of columns it spans on its first line.
public struct TOMLNode: Equatable, Sendable {
    public var value: TOMLValue
    public var location: SourceLocation
    public var width: Int

    public init(_ value: TOMLValue, at location: SourceLocation, width: Int = 1) {
        self.value = value
        self.location = location
        self.width = max(1, width)
    }
}

/// One `key = value` of a table (or a sub-table, or an array of tables), in source order.
public struct TOMLEntry: Equatable, Sendable {
    public var key: String
    public var keyLocation: SourceLocation
    public var keyWidth: Int
    public var node: TOMLNode
}

/// A TOML table with its entries in the order they were first written.
public struct TOMLTable: Equatable, Sendable {
    /// How the table came to exist; schema messages name tables the way they were written.
    public enum Origin: Equatable, Sendable {
        case root
        /// `[a.b]`
        case header
        /// An element of `[[a.b]]`.
        case arrayHeader
        /// `a` in `[a.b]` when `[a]` is never written.
        case implicit
        /// `a` in `a.b = 1`.
        case dotted
        /// `{ ... }`
        case inline
    }

    public private(set) var entries: [TOMLEntry]
    public var origin: Origin
    private var index: [String: Int]

    public init(origin: Origin, entries: [TOMLEntry] = []) {
        self.origin = origin
        self.entries = []
        self.index = [:]
        for entry in entries { append(entry) }
    }

    public subscript(key: String) -> TOMLEntry? {
        index[key].map { entries[$0] }
    }

    public var keys: [String] { entries.map(\.key) }
    public var isEmpty: Bool { entries.isEmpty }

    /// Adds an entry; a later entry with the same key replaces the earlier one (the parser
    /// rejects duplicates before it gets here).
    public mutating func append(_ entry: TOMLEntry) {
        if let existing = index[entry.key] {
            entries[existing] = entry
        } else {
            index[entry.key] = entries.count
            entries.append(entry)
        }
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.origin == rhs.origin && lhs.entries == rhs.entries
    }
}

public struct TOMLDate: Hashable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public var description: String {
        "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}

/// A time of day. Digits beyond nanoseconds are truncated, as TOML requires.
public struct TOMLTime: Hashable, Sendable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var nanosecond: Int

    public init(hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
    }

    public var description: String {
        var text = "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if nanosecond != 0 {
            var fraction = pad(nanosecond, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text
    }
}

func pad(_ number: Int, _ width: Int) -> String {
    let digits = String(number)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
