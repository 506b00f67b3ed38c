/// The exec form's JSON: an array of strings and nothing else. Anything that is not
/// exactly that (including a malformed array) makes the instruction use the shell form,
/// as in Docker.
enum JSONArray {
    static func parse(_ scalars: [Unicode.Scalar]) -> [String]? {
        var index = 0
        func skipSpace() {
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" || scalars[index] == "\n" || scalars[index] == "\r" { index += 1 }
        }
        skipSpace()
        guard index < scalars.count, scalars[index] == "[" else { return nil }
        index += 1
        var values: [String] = []
        skipSpace()
        if index < scalars.count, scalars[index] == "]" {
            index += 1
            skipSpace()
            return index == scalars.count ? values : nil
        }
        while true {
            skipSpace()
            guard let value = string(scalars, &index) else { return nil }
            values.append(value)
            skipSpace()
            guard index < scalars.count else { return nil }
            if scalars[index] == "," { index += 1; continue }
            guard scalars[index] == "]" else { return nil }
            index += 1
            skipSpace()
            return index == scalars.count ? values : nil
        }
    }

    private static func string(_ scalars: [Unicode.Scalar], _ index: inout Int) -> String? {
        guard index < scalars.count, scalars[index] == "\"" else { return nil }
        index += 1
        var out = ""
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "\"":
                return out
            case "\\":
                guard index < scalars.count else { return nil }
                let escaped = scalars[index]
                index += 1
                switch escaped {
                case "\"", "\\", "/": out.unicodeScalars.append(escaped)
                case "b": out += "\u{08}"
                case "f": out += "\u{0C}"
                case "n": out += "\n"
                case "r": out += "\r"
                case "t": out += "\t"
                case "u":
                    guard let unit = hex4(scalars, &index) else { return nil }
                    if (0xD800..<0xDC00).contains(unit) {
                        guard index + 1 < scalars.count, scalars[index] == "\\", scalars[index + 1] == "u" else { return nil }
                        index += 2
                        guard let low = hex4(scalars, &index), (0xDC00..<0xE000).contains(low),
                              let combined = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) else { return nil }
                        out.unicodeScalars.append(combined)
                    } else {
                        guard let decoded = Unicode.Scalar(unit) else { return nil }
                        out.unicodeScalars.append(decoded)
                    }
                default:
                    return nil
                }
            default:
                guard scalar.value >= 0x20 else { return nil }
                out.unicodeScalars.append(scalar)
            }
        }
        return nil
    }

    private static func hex4(_ scalars: [Unicode.Scalar], _ index: inout Int) -> UInt32? {
        guard index + 4 <= scalars.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Int(String(scalars[index]), radix: 16) else { return nil }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
