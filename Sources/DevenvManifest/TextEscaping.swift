/// The located diagnostics the manifest shares with the other project-file front ends.
@_exported import DevenvText

/// The manifest's errors: every diagnostic of one file.
public typealias ManifestError = DiagnosticError

/// Escaping of text taken from a manifest before it goes into an error message, with
/// `Printable`'s rules, plus the form TOML keys need.
enum TextEscaping {
    static func escape(_ text: String, limit: Int = 128) -> String {
        Printable.escape(text, limit: limit)
    }

    /// A key as TOML would write it: bare when possible, quoted otherwise.
    static func key(_ key: String) -> String {
        let isBare = !key.isEmpty && key.utf8.allSatisfy { TOMLSyntax.isBareKeyByte($0) }
        if isBare { return key }
        var out = "\""
        for character in escape(key) {
            out += character == "\"" ? "\\\"" : String(character)
        }
        return out + "\""
    }
}
