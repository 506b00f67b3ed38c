/// The exec form's JSON, read as BuildKit reads it (encoding/json into a list): text that
/// starts with `[` and is one JSON array of strings is the exec form; a well-formed array
/// with any other element (a number, `null`, a nested array) is an error; anything that is
/// not JSON makes the instruction use its shell (or whitespace-separated) form.
enum JSONArray {
    enum Parsed: Equatable {
        case strings([String])
        case notStrings
        case notJSON
    }

    static let notStringsMessage = "when using JSON array syntax, arrays must be comprised of strings only"

    static func parse(_ scalars: [Unicode.Scalar]) -> Parsed {
        // BuildKit trims Unicode white space on the left only; JSON allows its own four on the right.
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.count
        guard start < scalars.count, scalars[start] == "[" else { return .notJSON }
        var text = ""
        text.unicodeScalars.append(contentsOf: scalars[start...])
        guard let document = try? JSONReader.parse(Array(text.utf8), dialect: .strict),
              let elements = document.elements, !containsOverflow(document) else { return .notJSON }
        var strings: [String] = []
        for element in elements {
            guard let string = element.string else { return .notStrings }
            strings.append(string)
        }
        return .strings(strings)
    }

    /// encoding/json fails to decode a number beyond a double's range anywhere in the
    /// document, which BuildKit treats like malformed JSON.
    private static func containsOverflow(_ node: DevContainerJSON) -> Bool {
        switch node.value {
        case let .number(text): return !(Double(text)?.isFinite ?? false)
        case let .array(elements): return elements.contains(where: containsOverflow)
        case let .object(members): return members.contains { containsOverflow($0.value) }
        default: return false
        }
    }
}
