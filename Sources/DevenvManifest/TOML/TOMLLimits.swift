/// Resource limits of the TOML parser. Every limit gives a clean error at
/// the place it is crossed; none of them is reached by a reasonable manifest.
public struct TOMLLimits: Sendable {
    /// Largest accepted file. The caller should read at most `maxFileSize + 1` bytes.
    public var maxFileSize: Int
    /// Deepest nesting of tables, arrays and inline tables, counting dotted key parts.
    /// The parser recurses only for arrays and inline tables and checks this first, so its
    /// stack use is bounded by this number, never by the input.
    public var maxDepth: Int
    /// Longest key, in bytes after unescaping.
    public var maxKeyLength: Int
    /// Longest string value, in bytes after unescaping.
    public var maxStringLength: Int

    public init(maxFileSize: Int = 1 << 20, maxDepth: Int = 128, maxKeyLength: Int = 1024, maxStringLength: Int = 256 << 10) {
        self.maxFileSize = maxFileSize
        self.maxDepth = maxDepth
        self.maxKeyLength = maxKeyLength
        self.maxStringLength = maxStringLength
    }

    public static let `default` = TOMLLimits()

    static func nestingMessage(_ depth: Int) -> String {
        "arrays, tables and dotted keys nested deeper than \(depth) levels"
    }
}
