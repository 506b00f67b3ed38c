import Foundation
import DevenvManifest

/// A named volume a devcontainer.json or a feature mounts (`type=volume,source=NAME`): the
/// project's volume NAME (the store's `projects/<id>/volumes/NAME`, shared with its
/// services), kept across sessions and rebuilds.
public struct DevContainerVolume: Sendable, Equatable, Codable {
    public var name: String
    /// Absolute path in the container.
    public var target: String
    public var readOnly: Bool

    public init(name: String, target: String, readOnly: Bool) {
        self.name = name
        self.target = target
        self.readOnly = readOnly
    }

    /// Docker's rule for volume names; it also keeps a name one directory of the store.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 128, isAlphanumeric(first) else { return false }
        return name.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }
}

/// One `mounts` entry, in the string (`type=bind,source=…,target=…`) or object form, after
/// variable substitution: what devenv makes of it, or why it cannot.
public enum DevContainerMount: Sendable, Equatable {
    case volume(DevContainerVolume)
    /// A host path (absolute) bound at `target`.
    case bind(source: String, target: String, readOnly: Bool)
    /// The reason it is not applied.
    case unsupported(String)

    public static func read(_ fields: [String: String]) -> DevContainerMount {
        let type = fields["type"] ?? "bind"
        let readOnly = ["true", "1"].contains(fields["readonly"] ?? fields["ro"] ?? "false")
        guard let target = fields["target"] ?? fields["destination"] ?? fields["dst"], target.hasPrefix("/") else {
            return .unsupported("a mount needs an absolute target")
        }
        let source = fields["source"] ?? fields["src"]
        switch type {
        case "bind":
            guard let source, source.hasPrefix("/") else { return .unsupported("a bind mount needs an absolute source") }
            return .bind(source: source, target: target, readOnly: readOnly)
        case "volume":
            guard let source, !source.isEmpty else {
                return .unsupported("an anonymous volume (no source) would be new in every session; give it a name")
            }
            guard DevContainerVolume.isValidName(source) else {
                return .unsupported("'\(Printable.escape(source, limit: 128))' is not a volume name (letters, digits, '_', '.', '-', starting with a letter or digit)")
            }
            return .volume(DevContainerVolume(name: source, target: target, readOnly: readOnly))
        default:
            return .unsupported("type=\(Printable.escape(type, limit: 32)) mounts are not supported (only bind and volume)")
        }
    }

    /// `source=…,target=…,type=bind,consistency=cached` (a lone `readonly` is a flag).
    public static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            fields[pieces[0].trimmingCharacters(in: .whitespaces).lowercased()] = pieces.count == 2 ? pieces[1] : "true"
        }
        return fields
    }
}
