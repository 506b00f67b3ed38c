/// The dates HTTP headers carry (RFC 9110 5.6.7) as seconds since the epoch: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`) forms, the three Go's `http.ParseTime` accepts
/// (what BuildKit reads `Last-Modified` with). Anything else is nil, never a guess.
public enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    public static func parse(_ text: String) -> Int64? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch fields.count {
        case 6 where fields[5] == "GMT" && fields[0].hasSuffix(",") && days.contains(String(fields[0].dropLast())):
            guard fields[1].count == 2, fields[3].count == 4 else { return nil }
            return seconds(year: number(fields[3]), month: fields[2], day: number(fields[1]), time: fields[4])
        case 4 where fields[3] == "GMT" && fields[0].hasSuffix(",") && longDays.contains(String(fields[0].dropLast())):
            let date = fields[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard date.count == 3, date[0].count == 2, date[2].count == 2, let short = number(date[2]) else { return nil }
            // Go's two-digit years: 69-99 are 19xx, 00-68 are 20xx.
            return seconds(year: short >= 69 ? 1900 + short : 2000 + short, month: date[1], day: number(date[0]), time: fields[2])
        case 5 where days.contains(fields[0]):
            guard fields[4].count == 4, (1...2).contains(fields[2].count) else { return nil }
            return seconds(year: number(fields[4]), month: fields[1], day: number(fields[2]), time: fields[3])
        default:
            return nil
        }
    }

    private static func seconds(year: Int?, month name: String, day: Int?, time: String) -> Int64? {
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard let year, let day, let month = months.firstIndex(of: name).map({ $0 + 1 }),
              clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
              let hour = number(clock[0]), let minute = number(clock[1]), let second = number(clock[2]),
              hour < 24, minute < 60, second < 60, day >= 1, day <= length(of: month, in: year) else { return nil }
        return (daysSinceEpoch(year: year, month: month, day: day) * 86400) + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Decimal digits only (Int() would take a sign).
    private static func number<S: StringProtocol>(_ text: S) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(text)
    }

    private static func length(of month: Int, in year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
