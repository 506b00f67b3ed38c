import Foundation
import DevenvText

/// An option value as devcontainer.json or a feature's `dependsOn` writes it.
public enum FeatureValue: Hashable, Sendable, CustomStringConvertible {
    case bool(Bool)
    case string(String)

    public var description: String {
        switch self {
        case let .bool(value): return value ? "true" : "false"
        case let .string(text): return text
        }
    }
}

/// One entry of devcontainer.json's `features` (or of a feature's `dependsOn`): the
/// reference as written and the options chosen for it.
public struct FeatureRequest: Hashable, Sendable {
    public var reference: String
    public var options: [String: FeatureValue]
    public var location: SourceLocation

    public init(reference: String, options: [String: FeatureValue], location: SourceLocation) {
        self.reference = reference
        self.options = options
        self.location = location
    }

    /// `"ref": {options}`, `"ref": "1.2"` (the legacy `version` shorthand) or `"ref": true`.
    static func read(_ member: DevContainerJSON.Member, key: String, diagnostics: inout [Diagnostic]) -> FeatureRequest? {
        let reference = member.key.trimmingCharacters(in: .whitespaces)
        guard !reference.isEmpty else {
            diagnostics.append(Diagnostic("\(key): an empty feature reference", at: member.keyLocation))
            return nil
        }
        var options: [String: FeatureValue] = [:]
        switch member.value.value {
        case let .string(version):
            options["version"] = .string(version)
        case .bool, .null:
            break
        case let .object(entries):
            for entry in entries {
                switch entry.value.value {
                case let .bool(flag): options[entry.key] = .bool(flag)
                case let .string(text): options[entry.key] = .string(text)
                case let .number(text): options[entry.key] = .string(text)
                default:
                    diagnostics.append(Diagnostic("\(key).\(Printable.escape(reference, limit: 128)).\(Printable.escape(entry.key, limit: 64)): expected a string or a boolean, found \(entry.value.typeDescription)",
                                                  at: entry.value.location))
                }
            }
        default:
            diagnostics.append(Diagnostic("\(key).\(Printable.escape(reference, limit: 128)): expected an object of options, found \(member.value.typeDescription)",
                                          at: member.value.location))
            return nil
        }
        return FeatureRequest(reference: reference, options: options, location: member.keyLocation)
    }

    /// The `features` object of a devcontainer.json (or `dependsOn` of a feature).
    static func readAll(_ node: DevContainerJSON?, key: String, diagnostics: inout [Diagnostic]) -> [FeatureRequest] {
        guard let node else { return [] }
        guard let members = node.members else {
            diagnostics.append(Diagnostic("\(key): expected an object of feature references, found \(node.typeDescription)", at: node.location))
            return []
        }
        var requests: [FeatureRequest] = []
        for member in members {
            guard let request = read(member, key: key, diagnostics: &diagnostics) else { continue }
            // A repeated key: the last one counts, as everywhere in the JSON.
            requests.removeAll { $0.reference == request.reference }
            requests.append(request)
        }
        return requests
    }

    /// An array of strings (`installsAfter`, `overrideFeatureInstallOrder`).
    static func readStrings(_ node: DevContainerJSON?, key: String, diagnostics: inout [Diagnostic]) -> [String] {
        guard let node else { return [] }
        guard let elements = node.elements, elements.allSatisfy({ $0.string != nil }) else {
            diagnostics.append(Diagnostic("\(key): expected an array of strings, found \(node.typeDescription)", at: node.location))
            return []
        }
        return elements.compactMap(\.string)
    }
}
