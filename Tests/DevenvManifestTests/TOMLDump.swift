import DevenvManifest

/// A compact, location-free rendering of a TOML value, in the spirit of toml-test's tagged
/// JSON: strings are quoted and escaped, other scalars are tagged by type, tables keep
/// source order. Lets a test state the expected document in one line.
enum TOMLDump {
    static func dump(_ table: TOMLTable) -> String {
        "{" + table.entries.map { "\(quote($0.key)): \(dump($0.node.value))" }.joined(separator: ", ") + "}"
    }

    static func dump(_ value: TOMLValue) -> String {
        switch value {
        case let .string(text): return quote(text)
        case let .integer(number): return "int:\(number)"
        case let .float(number):
            if number.isNaN { return "float:nan" }
            return "float:\(number)"
        case let .boolean(flag): return "bool:\(flag)"
        case let .offsetDateTime(date, time, offset):
            let sign = offset < 0 ? "-" : "+"
            let minutes = abs(offset)
            return "odt:\(date)T\(time)\(sign)\(two(minutes / 60)):\(two(minutes % 60))"
        case let .localDateTime(date, time): return "ldt:\(date)T\(time)"
        case let .localDate(date): return "ld:\(date)"
        case let .localTime(time): return "lt:\(time)"
        case let .array(items): return "[" + items.map { dump($0.value) }.joined(separator: ", ") + "]"
        case let .table(table): return dump(table)
        }
    }

    private static func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
