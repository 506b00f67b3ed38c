/// Pure edits of an image's run configuration, and the container path arithmetic every
/// front end uses for working directories.
public enum ConfigEditor {
    /// Sets each variable to its value as given (later entries replace earlier ones).
    public static func replacing(_ variables: [EnvironmentVariable], in environment: [String]) -> [String] {
        var result = environment
        for variable in variables {
            let entry = "\(variable.name)=\(variable.value)"
            if let index = result.firstIndex(where: { split($0).0 == variable.name }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }

    /// Sets each variable in order; `$NAME` and `${NAME}` in a value expand to the value the
    /// variable has at that point (as in a Dockerfile's ENV), so `PATH=/opt/bin:$PATH` works.
    public static func setting(_ variables: [EnvironmentVariable], in environment: [String]) -> [String] {
        variables.reduce(environment) { result, variable in
            let current = Dictionary(result.map(split), uniquingKeysWith: { _, last in last })
            return replacing([EnvironmentVariable(name: variable.name, value: expand(variable.value, with: current))], in: result)
        }
    }

    /// A path against the working directory (absolute paths replace it), normalized: `.`
    /// and `..` components are resolved textually, never above `/`.
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

    public static func split(_ entry: String) -> (String, String) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    /// `$NAME`, `${NAME}` in `value` replaced by their values in `environment` (unset: empty);
    /// `\$` is a literal `$`. The one expander of step `env`, `[shell] env` and task `env`.
    public static func expand(_ value: String, with environment: [String: String]) -> String {
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
