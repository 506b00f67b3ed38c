import DevenvManifest
import DevenvPlan
import Foundation

/// A feature's `devcontainer-feature.json`: its options and what it asks of the container.
public struct FeatureMetadata: Sendable, Equatable {
    public struct Option: Sendable, Equatable {
        public enum Kind: String, Sendable { case boolean, string }
        public var kind: Kind
        public var defaultValue: FeatureValue?
        /// `enum`: the only values allowed.
        public var allowed: [String]?
        /// `proposals`: suggestions; any string is allowed.
        public var proposals: [String]?
    }

    public var id: String
    public var version: String?
    public var options: [String: Option]
    /// Image environment, set before the feature's install script runs.
    public var containerEnv: [EnvironmentVariable]
    public var dependsOn: [FeatureRequest]
    public var installsAfter: [String]
    /// Mounts as written (strings or objects, normalised to `key=value,...` strings).
    public var mounts: [String]
    public var capAdd: [String]
    public var securityOpt: [String]
    public var privileged: Bool
    public var initProcess: Bool
    public var entrypoint: String?
    /// `onCreateCommand`, `updateContentCommand`, `postCreateCommand`.
    public var createCommands: [DevContainerConfig.LifecycleCommand]
    /// `postStartCommand`, `postAttachCommand`.
    public var startCommands: [DevContainerConfig.LifecycleCommand]

    /// Pure: `devcontainer-feature.json`'s bytes; errors are a `DiagnosticError` named after `path`.
    public static func parse(_ bytes: [UInt8], path: String) throws -> FeatureMetadata {
        let json = try DevContainerJSON.parse(bytes, path: path)
        var diagnostics: [Diagnostic] = []
        let metadata = read(json, diagnostics: &diagnostics)
        guard let metadata, diagnostics.isEmpty else {
            throw DiagnosticError(path: path, source: bytes, diagnostics: diagnostics)
        }
        return metadata
    }

    private static func read(_ json: DevContainerJSON, diagnostics: inout [Diagnostic]) -> FeatureMetadata? {
        guard json.members != nil else {
            diagnostics.append(Diagnostic("expected an object, found \(json.typeDescription)", at: json.location))
            return nil
        }
        func string(_ key: String) -> String? {
            guard let node = json[key] else { return nil }
            guard let text = node.string else {
                diagnostics.append(Diagnostic("\(key): expected a string, found \(node.typeDescription)", at: node.location))
                return nil
            }
            return text
        }
        func bool(_ key: String) -> Bool {
            guard let node = json[key] else { return false }
            guard case let .bool(flag) = node.value else {
                diagnostics.append(Diagnostic("\(key): expected a boolean, found \(node.typeDescription)", at: node.location))
                return false
            }
            return flag
        }
        guard let id = string("id"), !id.isEmpty else {
            if json["id"] == nil { diagnostics.append(Diagnostic("a feature needs an 'id'", at: json.location)) }
            return nil
        }
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), id.unicodeScalars.allSatisfy(\.isASCII) else {
            diagnostics.append(Diagnostic("id: '\(Printable.escape(id, limit: 64))' may hold only letters, digits, '-', '_' and '.'", at: json["id"]!.location))
            return nil
        }
        var containerEnv: [EnvironmentVariable] = []
        for member in json["containerEnv"]?.members ?? [] {
            guard let value = member.value.string, !member.key.isEmpty, !member.key.contains("="), !member.key.contains("\0") else {
                diagnostics.append(Diagnostic("containerEnv.\(Printable.escape(member.key, limit: 64)): expected a string value and a valid name", at: member.keyLocation))
                continue
            }
            containerEnv.append(EnvironmentVariable(name: member.key, value: value))
        }
        return FeatureMetadata(
            id: id, version: string("version"), options: readOptions(json["options"], diagnostics: &diagnostics), containerEnv: containerEnv,
            dependsOn: FeatureRequest.readAll(json["dependsOn"], key: "dependsOn", diagnostics: &diagnostics),
            installsAfter: FeatureRequest.readStrings(json["installsAfter"], key: "installsAfter", diagnostics: &diagnostics),
            mounts: readMounts(json["mounts"]), capAdd: FeatureRequest.readStrings(json["capAdd"], key: "capAdd", diagnostics: &diagnostics),
            securityOpt: FeatureRequest.readStrings(json["securityOpt"], key: "securityOpt", diagnostics: &diagnostics),
            privileged: bool("privileged"), initProcess: bool("init"), entrypoint: string("entrypoint"),
            createCommands: ["onCreateCommand", "updateContentCommand", "postCreateCommand"].flatMap { lifecycle(json[$0], $0, &diagnostics) },
            startCommands: ["postStartCommand", "postAttachCommand"].flatMap { lifecycle(json[$0], $0, &diagnostics) })
    }

    private static func readOptions(_ node: DevContainerJSON?, diagnostics: inout [Diagnostic]) -> [String: Option] {
        guard let node else { return [:] }
        guard let members = node.members else {
            diagnostics.append(Diagnostic("options: expected an object, found \(node.typeDescription)", at: node.location))
            return [:]
        }
        var options: [String: Option] = [:]
        for member in members {
            let key = "options.\(Printable.escape(member.key, limit: 64))"
            guard let kindText = member.value["type"]?.string, let kind = Option.Kind(rawValue: kindText) else {
                diagnostics.append(Diagnostic("\(key).type: expected \"boolean\" or \"string\"", at: member.value.location))
                continue
            }
            var defaultValue: FeatureValue?
            switch member.value["default"]?.value {
            case let .bool(flag)?: defaultValue = .bool(flag)
            case let .string(text)?: defaultValue = .string(text)
            case nil, .null?: break
            default: diagnostics.append(Diagnostic("\(key).default: expected a string or a boolean", at: member.value["default"]!.location))
            }
            let allowed = member.value["enum"].map { FeatureRequest.readStrings($0, key: "\(key).enum", diagnostics: &diagnostics) }
            let proposals = member.value["proposals"].map { FeatureRequest.readStrings($0, key: "\(key).proposals", diagnostics: &diagnostics) }
            options[member.key] = Option(kind: kind, defaultValue: defaultValue, allowed: allowed, proposals: proposals)
        }
        return options
    }

    private static func readMounts(_ node: DevContainerJSON?) -> [String] {
        (node?.elements ?? []).compactMap { element in
            if let text = element.string { return text }
            guard let members = element.members else { return nil }
            return members.compactMap { member in member.value.scalarText.map { "\(member.key)=\($0)" } }.joined(separator: ",")
        }
    }

    private static func lifecycle(_ node: DevContainerJSON?, _ key: String, _ diagnostics: inout [Diagnostic]) -> [DevContainerConfig.LifecycleCommand] {
        guard let node else { return [] }
        let entries: [(String, DevContainerJSON)] = node.members.map { $0.map { ("\(key).\($0.key)", $0.value) } } ?? [(key, node)]
        return entries.compactMap { name, value in
            if let text = value.string {
                return DevContainerConfig.LifecycleCommand(name: name, command: .shell(text), location: value.location)
            }
            if let elements = value.elements, !elements.isEmpty, elements.allSatisfy({ $0.string != nil }) {
                return DevContainerConfig.LifecycleCommand(name: name, command: .argv(elements.compactMap(\.string)), location: value.location)
            }
            diagnostics.append(Diagnostic("\(name): expected a string or an array of strings, found \(value.typeDescription)", at: value.location))
            return nil
        }
    }
}
