/// A position in a source file. Lines and columns start at 1; the column counts Unicode
/// scalars (not bytes, not terminal cells), so it matches what editors show for text without
/// combining marks. `offset` is the byte offset from the start of the file, for tools that
/// need to slice the original bytes.
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// The start of a file, where errors about the file as a whole are reported.
    public static let start = SourceLocation(line: 1, column: 1, offset: 0)

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        lhs.offset < rhs.offset
    }

    public var description: String { "\(line):\(column)" }
}

/// A validated value together with where it was written, so a later layer (e.g. the one that
/// parses `base.image` as an OCI reference) can report its own errors at the right place.
/// `width` is how many columns the value spans on its first line (at least 1).
public struct Located<Value> {
    public var value: Value
    public var location: SourceLocation
    public var width: Int

    public init(_ value: Value, at location: SourceLocation, width: Int = 1) {
        self.value = value
        self.location = location
        self.width = max(1, width)
    }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
extension Located: Sendable where Value: Sendable {}
