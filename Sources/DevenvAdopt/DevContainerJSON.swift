import DevenvText

/// A JSON value from a devcontainer.json, with where it was written.
public struct DevContainerJSON: Sendable {
    public indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([DevContainerJSON])
        /// Members in the order written (a repeated key: the last one counts).
        case object([Member])
    }

    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: DevContainerJSON
    }

    public var value: Value
    public var location: SourceLocation
    public var width: Int

    public var string: String? {
        if case let .string(text) = value { return text }
        return nil
    }

    /// A string, or a boolean or number as written (`"readonly": true` in a mount object).
    public var scalarText: String? {
        switch value {
        case let .string(text), let .number(text): return text
        case let .bool(flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    public var members: [Member]? {
        if case let .object(members) = value { return members }
        return nil
    }

    public var elements: [DevContainerJSON]? {
        if case let .array(elements) = value { return elements }
        return nil
    }

    public subscript(key: String) -> DevContainerJSON? {
        members?.last { $0.key == key }?.value
    }

    public var typeDescription: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses JSON with comments (`//`, `/* */`) and trailing commas, as VS Code reads
    /// devcontainer.json. Errors are a `DiagnosticError` named after `path`.
    public static func parse(_ bytes: [UInt8], path: String) throws -> DevContainerJSON {
        do {
            return try JSONReader.parse(bytes, dialect: .jsonc)
        } catch {
            throw DiagnosticError(path: path, source: bytes, diagnostics: [error])
        }
    }
}
