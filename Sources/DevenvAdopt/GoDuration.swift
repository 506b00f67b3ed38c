import DevenvText

/// Go's time.ParseDuration, which BuildKit uses for HEALTHCHECK's flags: an optional sign,
/// then one or more decimal numbers each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`),
/// as in `1m30s` or `1.5h`; `0` alone needs no unit.
enum GoDuration {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let units: [(String, Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Nanoseconds.
    static func parse(_ text: String) -> Result<Int64, Failure> {
        let invalid = Failure(description: "invalid duration '\(Printable.escape(text))'")
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .success(0) }
        guard !rest.isEmpty else { return .failure(invalid) }
        var total: Int64 = 0
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { return .failure(invalid) }
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unitText.count)
            guard !unitText.isEmpty else { return .failure(Failure(description: "missing unit in duration '\(Printable.escape(text))'")) }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else {
                return .failure(Failure(description: "unknown unit '\(Printable.escape(String(unitText)))' in duration '\(Printable.escape(text))'"))
            }
            guard let value = nanoseconds(whole: whole, fraction: fraction, unit: unit) else { return .failure(invalid) }
            let (sum, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { return .failure(invalid) }
            total = sum
        }
        return .success(negative ? -total : total)
    }

    private static func nanoseconds(whole: Substring, fraction: Substring, unit: Int64) -> Int64? {
        var value: Int64 = 0
        for digit in whole {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(digit.wholeNumberValue ?? 0))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        // The fraction's digits beyond what a nanosecond can hold are dropped, as in Go.
        var fractional: Int64 = 0
        var scale: Int64 = unit
        for digit in fraction {
            scale /= 10
            guard scale > 0 else { break }
            fractional += Int64(digit.wholeNumberValue ?? 0) * scale
        }
        let (sum, overflow2) = scaled.addingReportingOverflow(fractional)
        return overflow2 ? nil : sum
    }
}
