import DevenvPlan
import DevenvText
import Foundation

/// The options a feature installs with: its defaults, overridden by what the project asks,
/// each checked against the feature's schema.
public enum FeatureOptions {
    /// `requested` over the defaults in `metadata`, as `NAME=value` for `install.sh`, sorted
    /// by name. A value of the wrong type, outside an `enum` or for an option the feature
    /// does not declare is an error naming the option.
    public static func environment(_ metadata: FeatureMetadata, requested: [String: FeatureValue]) throws(FeatureProblem) -> [EnvironmentVariable] {
        var values: [String: FeatureValue] = [:]
        for (id, option) in metadata.options {
            if let value = option.defaultValue { values[id] = value }
        }
        for (id, value) in requested.sorted(by: { $0.key < $1.key }) {
            guard let option = metadata.options[id] else {
                // The legacy shorthand `"ref": "1.2"` names a version the feature may not declare.
                if id == "version" { continue }
                let known = metadata.options.keys.sorted().joined(separator: ", ")
                throw FeatureProblem("option '\(Printable.escape(id, limit: 64))' is not one of the feature's options (\(known.isEmpty ? "it has none" : known))")
            }
            values[id] = try checked(value, option, id: id)
        }
        return values.map { EnvironmentVariable(name: safeName($0.key), value: $0.value.description) }.sorted { $0.name < $1.name }
    }

    private static func checked(_ value: FeatureValue, _ option: FeatureMetadata.Option, id: String) throws(FeatureProblem) -> FeatureValue {
        switch (option.kind, value) {
        case (.boolean, .bool):
            return value
        case let (.boolean, .string(text)) where text == "true" || text == "false":
            return .bool(text == "true")
        case (.boolean, .string):
            throw FeatureProblem("option '\(Printable.escape(id, limit: 64))' is a boolean, not \"\(Printable.escape(value.description, limit: 64))\"")
        case (.string, .bool):
            throw FeatureProblem("option '\(Printable.escape(id, limit: 64))' is a string; write \"\(value)\" in quotes")
        case let (.string, .string(text)):
            if let allowed = option.allowed, !allowed.contains(text) {
                throw FeatureProblem("option '\(Printable.escape(id, limit: 64))' is \"\(Printable.escape(text, limit: 64))\", but must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            return value
        }
    }

    /// The spec's environment name of option `id`: characters other than letters, digits and
    /// `_` become `_`, leading digits and underscores one `_`, then upper case.
    public static func safeName(_ id: String) -> String {
        var name = String(id.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_") ? Character(scalar) : "_"
        })
        let leading = name.prefix { $0.isNumber || $0 == "_" }
        if !leading.isEmpty { name = "_" + name.dropFirst(leading.count) }
        return name.uppercased()
    }
}

/// Why a feature cannot be used as asked; the Kit adds which feature and where.
public struct FeatureProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
