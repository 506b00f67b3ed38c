/// Pure edits of an image's run configuration by config-only steps.
public enum ConfigEditor {
    /// Sets each variable in order; `$NAME` and `${NAME}` in a value expand to the value the
    /// variable has at that point (as in a Dockerfile's ENV), so `PATH=/opt/bin:$PATH` works.
    public static func setting(_ variables: [EnvironmentVariable], in environment: [String]) -> [String] {
        var result = environment
        for variable in variables {
            let current = Dictionary(result.map(split), uniquingKeysWith: { _, last in last })
            let value = expand(variable.value, with: current)
            if let index = result.firstIndex(where: { split($0).0 == variable.name }) {
                result[index] = "\(variable.name)=\(value)"
            } else {
                result.append("\(variable.name)=\(value)")
            }
        }
        return result
    }

    /// A working directory relative to the current one (absolute paths replace it).
    public static func resolve(_ path: String, from current: String?) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        return normalize((current ?? "/") + "/" + path)
    }

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func split(_ entry: String) -> (String, String) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    static func expand(_ value: String, with environment: [String: String]) -> String {
        var out = ""
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if character == "\\", value.index(after: index) < value.endIndex, value[value.index(after: index)] == "$" {
                out.append("$")
                index = value.index(index, offsetBy: 2)
                continue
            }
            guard character == "$" else { out.append(character); index = value.index(after: index); continue }
            var cursor = value.index(after: index)
            let braced = cursor < value.endIndex && value[cursor] == "{"
            if braced { cursor = value.index(after: cursor) }
            var name = ""
            while cursor < value.endIndex, value[cursor] == "_" || value[cursor].isLetter || value[cursor].isNumber, value[cursor].isASCII {
                name.append(value[cursor])
                cursor = value.index(after: cursor)
            }
            if braced {
                guard cursor < value.endIndex, value[cursor] == "}", !name.isEmpty else {
                    out.append(character)
                    index = value.index(after: index)
                    continue
                }
                cursor = value.index(after: cursor)
            }
            if name.isEmpty {
                out.append(character)
                index = value.index(after: index)
            } else {
                out += environment[name] ?? ""
                index = cursor
            }
        }
        return out
    }
}
