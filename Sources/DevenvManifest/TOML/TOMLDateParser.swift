/// RFC 3339 dates and times as TOML 1.0 restricts them: seconds are required, the
/// separator may be `T`, `t` or one space, and offsets are `Z`, `z` or `±hh:mm`.
enum TOMLDateParser {
    typealias ScalarError = TOMLParser.ScalarError

    static func parse(_ token: ArraySlice<UInt8>, text: String) throws -> TOMLValue {
        var reader = Reader(bytes: Array(token), text: text)
        if token.count >= 3 && TOMLParser.isTimePrefix(token) {
            let time = try reader.time()
            try reader.end()
            return .localTime(time)
        }
        let date = try reader.date()
        if reader.atEnd { return .localDate(date) }
        guard let separator = reader.next(), separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == TOMLSyntax.space else {
            throw ScalarError("invalid date-time '\(text)': expected 'T' or a space after the date")
        }
        let time = try reader.time()
        if reader.atEnd { return .localDateTime(date, time) }
        let offset = try reader.offset()
        try reader.end()
        return .offsetDateTime(date, time, offsetMinutes: offset)
    }

    private struct Reader {
        let bytes: [UInt8]
        let text: String
        var index = 0

        var atEnd: Bool { index >= bytes.count }

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        func fail(_ reason: String) -> ScalarError {
            ScalarError("invalid date or time '\(TextEscaping.escape(text, limit: 40))': \(reason)")
        }

        mutating func number(_ digits: Int, _ what: String) throws -> Int {
            var value = 0
            for _ in 0..<digits {
                guard let byte = next(), TOMLSyntax.isDigit(byte) else { throw fail("\(what) must have \(digits) digits") }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }

        mutating func expect(_ byte: UInt8, _ reason: String) throws {
            guard next() == byte else { throw fail(reason) }
        }

        mutating func date() throws -> TOMLDate {
            let year = try number(4, "the year")
            try expect(TOMLSyntax.minus, "expected '-' after the year")
            let month = try number(2, "the month")
            try expect(TOMLSyntax.minus, "expected '-' after the month")
            let day = try number(2, "the day")
            guard (1...12).contains(month) else { throw fail("month \(month) is not between 01 and 12") }
            guard (1...Self.days(inMonth: month, year: year)).contains(day) else {
                throw fail("day \(day) does not exist in that month")
            }
            return TOMLDate(year: year, month: month, day: day)
        }

        mutating func time() throws -> TOMLTime {
            let hour = try number(2, "the hour")
            try expect(TOMLSyntax.colon, "expected ':' after the hour")
            let minute = try number(2, "the minute")
            guard next() == TOMLSyntax.colon else { throw fail("seconds are required in TOML 1.0") }
            let second = try number(2, "the second")
            guard hour < 24 else { throw fail("hour \(hour) is not between 00 and 23") }
            guard minute < 60 else { throw fail("minute \(minute) is not between 00 and 59") }
            // 60 is a leap second, which RFC 3339 allows.
            guard second <= 60 else { throw fail("second \(second) is not between 00 and 60") }
            var nanosecond = 0
            if index < bytes.count && bytes[index] == TOMLSyntax.dot {
                index += 1
                var digits = 0
                while index < bytes.count && TOMLSyntax.isDigit(bytes[index]) {
                    if digits < 9 { nanosecond = nanosecond * 10 + Int(bytes[index] - 0x30) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { throw fail("expected digits after '.'") }
                for _ in min(digits, 9)..<9 { nanosecond *= 10 }
            }
            return TOMLTime(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
        }

        mutating func offset() throws -> Int {
            guard let sign = next() else { throw fail("expected an offset") }
            if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") { return 0 }
            guard sign == TOMLSyntax.plus || sign == TOMLSyntax.minus else { throw fail("expected 'Z' or an offset like +01:00") }
            let hours = try number(2, "the offset hour")
            try expect(TOMLSyntax.colon, "expected ':' in the offset")
            let minutes = try number(2, "the offset minute")
            guard hours < 24, minutes < 60 else { throw fail("offset out of range") }
            let total = hours * 60 + minutes
            return sign == TOMLSyntax.minus ? -total : total
        }

        func end() throws {
            guard atEnd else { throw fail("unexpected text after the value") }
        }

        static func days(inMonth month: Int, year: Int) -> Int {
            switch month {
            case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
            case 4, 6, 9, 11: return 30
            default: return 31
            }
        }
    }
}
