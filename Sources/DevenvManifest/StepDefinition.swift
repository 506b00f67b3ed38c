/// The canonical text of a step, for build cache keys and `--explain`.
///
/// Format (version `definitionFormatVersion`): one JSON object on one line, members in a
/// fixed order, no insignificant whitespace, strings escaped as in `CanonicalJSON`.
///
///     {"run":"apt-get update","cache":["/var/cache/apt"],"network":"host"}
///     {"run":["make","-j4"]}
///     {"copy":["requirements.txt","src/"],"to":"/app/"}
///     {"env":{"LANG":"C.UTF-8","PATH":"/opt/bin:$PATH"}}
///     {"workdir":"/app"}
///     {"user":"1000:1000"}
///     {"packages":["build-essential","git"]}
///
/// Only what changes the result is included: locations, comments, key order, quoting style
/// and the order of `env` names, `cache` paths and `packages` do not matter (they are
/// sorted by UTF-8 bytes and de-duplicated), while the order of `copy` sources and argv
/// elements does. Absent optional keys are omitted. The definition covers the step alone:
/// a builder chains it with the previous step's key and the inputs (copied files, base
/// image digest) itself.
extension Manifest.Step {
    /// Bumped whenever the format above changes, so a builder can mix it into its keys.
    public static let definitionFormatVersion = 1

    public var normalizedDefinition: String {
        var json = CanonicalJSON()
        json.beginObject()
        switch action {
        case let .run(run):
            json.key("run")
            switch run.command.value {
            case let .shell(script): json.string(script)
            case let .argv(arguments): json.strings(arguments)
            }
            if !run.cache.isEmpty {
                json.key("cache")
                json.strings(Self.sortedUnique(run.cache.map(\.value)))
            }
            if let network = run.network {
                json.key("network")
                json.string(network.rawValue)
            }
        case let .copy(copy):
            json.key("copy")
            json.strings(copy.sources.map(\.value))
            if let destination = copy.destination {
                json.key("to")
                json.string(destination.value)
            }
        case let .env(variables):
            json.key("env")
            json.beginObject()
            // Later definitions of a name win, as they would when applied in order.
            var values: [String: String] = [:]
            for variable in variables { values[variable.name] = variable.value }
            for name in Self.sortedUnique(Array(values.keys)) {
                json.key(name)
                json.string(values[name] ?? "")
            }
            json.endObject()
        case let .workdir(directory):
            json.key("workdir")
            json.string(directory.value)
        case let .user(user):
            json.key("user")
            json.string(user.value.description)
        case let .packages(names):
            json.key("packages")
            json.strings(Self.sortedUnique(names.map(\.value)))
        }
        json.endObject()
        return json.text
    }

    private static func sortedUnique(_ values: [String]) -> [String] {
        Array(Set(values)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

/// A minimal JSON writer whose output is canonical: `"` and `\` are escaped as `\"` and
/// `\\`; U+0008, U+0009, U+000A, U+000C and U+000D as `\b`, `\t`, `\n`, `\f`, `\r`; other
/// characters below U+0020 as `\u00xx` (lowercase hex); everything else is written as
/// UTF-8 unchanged.
struct CanonicalJSON {
    private(set) var text = ""
    private var needsComma = false

    mutating func beginObject() {
        separate()
        text += "{"
        needsComma = false
    }

    mutating func endObject() {
        text += "}"
        needsComma = true
    }

    mutating func key(_ name: String) {
        separate()
        appendString(name)
        text += ":"
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        appendString(value)
        needsComma = true
    }

    mutating func strings(_ values: [String]) {
        separate()
        text += "["
        needsComma = false
        for value in values { string(value) }
        text += "]"
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { text += "," }
    }

    private mutating func appendString(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\u{08}": text += "\\b"
            case "\t": text += "\\t"
            case "\n": text += "\\n"
            case "\u{0C}": text += "\\f"
            case "\r": text += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
