/// A YAML document as `devenv kube generate` writes it: block style, keys in the order given.
/// Every scalar from the manifest is untrusted (names, values, commands): a string is written
/// plain only when it can mean nothing but itself, otherwise double-quoted with every
/// character outside printable ASCII escaped, so no value can end its line, start a key, a
/// comment, an anchor or a document, or be read back as a number, boolean or null.
public indirect enum YAMLNode: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case list([YAMLNode])
    case map([(String, YAMLNode)])

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.boolean(a), .boolean(b)): return a == b
        case let (.list(a), .list(b)): return a == b
        case let (.map(a), .map(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The document's text, ending in a newline.
    public var rendered: String {
        lines(indent: 0).joined(separator: "\n") + "\n"
    }

    private var inline: String? {
        switch self {
        case let .string(text): return Self.scalar(text)
        case let .integer(number): return String(number)
        case let .boolean(value): return value ? "true" : "false"
        case let .list(items): return items.isEmpty ? "[]" : nil
        case let .map(entries): return entries.isEmpty ? "{}" : nil
        }
    }

    private func lines(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        if let inline { return [pad + inline] }
        switch self {
        case let .list(items):
            return items.flatMap { item -> [String] in
                // The item rendered two columns in, its first line's indentation taken by "- ".
                var block = item.lines(indent: indent + 2)
                block[0] = pad + "- " + block[0].dropFirst(indent + 2)
                return block
            }
        case let .map(entries):
            return entries.flatMap { key, value -> [String] in
                let head = pad + Self.scalar(key) + ":"
                if let inline = value.inline { return [head + " " + inline] }
                return [head] + value.lines(indent: indent + 2)
            }
        default:
            return []
        }
    }

    /// Words YAML 1.1 or 1.2 resolves to something other than a string when written plain.
    private static let reserved: Set<String> = ["true", "false", "yes", "no", "y", "n", "on", "off", "null", "~"]

    /// `text` plain when that is unambiguous (a letter or `/`, then letters, digits and
    /// `-_./`), else double-quoted.
    static func scalar(_ text: String) -> String {
        let bytes = Array(text.utf8)
        if let first = bytes.first, isLetter(first) || first == UInt8(ascii: "/"), bytes.allSatisfy({ isLetter($0) || isDigit($0) || "-_./".utf8.contains($0) }),
           !reserved.contains(text.lowercased()) {
            return text
        }
        return quoted(text)
    }

    /// A double-quoted scalar: printable ASCII as is (but `"` and `\`), everything else as an escape.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case " "..."~": out.unicodeScalars.append(scalar)
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value <= 0xFF ? "\\x" + pad(hex, 2) : scalar.value <= 0xFFFF ? "\\u" + pad(hex, 4) : "\\U" + pad(hex, 8)
            }
        }
        return out + "\""
    }

    private static func pad(_ hex: String, _ width: Int) -> String { String(repeating: "0", count: max(0, width - hex.count)) + hex }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}

extension YAMLNode {
    /// Several documents as one stream, separated by `---`.
    public static func stream(_ documents: [YAMLNode]) -> String {
        documents.map(\.rendered).joined(separator: "---\n")
    }
}
