import Foundation
import Testing
import DevenvText
@testable import DevenvAdopt

/// The one JSON reader (devcontainer.json and the Dockerfile exec form): RFC 8259, JSONC
/// extensions only where asked for, located errors, bounded, linear.
struct JSONReaderTests {
    static func parse(_ text: String, _ dialect: JSONReader.Dialect = .strict) throws(Diagnostic) -> DevContainerJSON {
        try JSONReader.parse(Array(text.utf8), dialect: dialect)
    }

    static func error(_ text: String, _ dialect: JSONReader.Dialect = .strict) -> Diagnostic? {
        do {
            _ = try parse(text, dialect)
            return nil
        } catch {
            return error
        }
    }

    static func error(bytes: [UInt8]) -> Diagnostic? {
        do {
            _ = try JSONReader.parse(bytes, dialect: .jsonc)
            return nil
        } catch {
            return error
        }
    }

    /// The crash of issue 15: a high surrogate followed by an escape that is not a low one.
    @Test(arguments: [
        (#""\uD888\u1234""#, "\u{FFFD}\u{1234}"), (#""\uD888""#, "\u{FFFD}"), (#""\uDC00x""#, "\u{FFFD}x"),
        (#""\uD888\uD888\uDC00""#, "\u{FFFD}\u{32000}"), (#""\uD83D\uDE00""#, "😀"), (#""\uD888\n""#, "\u{FFFD}\n"),
        (#""\uD888\u""#, nil), (#""\u00e9\/\b\f\n\r\t\"\\""#, "é/\u{08}\u{0C}\n\r\t\"\\"), (#""\u0000""#, "\u{0}"),
    ] as [(String, String?)])
    func surrogatesAndEscapes(_ text: String, _ expected: String?) {
        for dialect in [JSONReader.Dialect.strict, .jsonc] {
            #expect((try? Self.parse(text, dialect))?.string == expected, "\(text)")
        }
    }

    @Test(arguments: ["-01", "2.", "1.0e+", ".5", "+1", "01", "-", "1e", "1.e3", "0x10", "1..2", "--1", "1e+-2", "00", "-.5", "1_000", "Infinity", "NaN"])
    func malformedNumbersAreLocatedErrors(_ number: String) throws {
        let error = try #require(Self.error("[true, \(number)]"), "\(number) was accepted")
        #expect(error.location.line == 1 && error.location.column == 8, "\(number): \(error.location) \(error.message)")
    }

    @Test(arguments: ["0", "-0", "1", "-1", "10", "1.5", "-0.25", "1e3", "1E+3", "1e-3", "123456789012345678901234567890", "0.0e0"])
    func validNumbersAreKeptAsWritten(_ number: String) throws {
        #expect(try Self.parse("[\(number)]").elements?.first?.value.number == number)
    }

    @Test func commentsAndTrailingCommasOnlyInJSONC() throws {
        let text = "// top\n{ /* a */ \"a\": [1, 2,], \"b\": {\"c\": true,}, }\n"
        let json = try Self.parse(text, .jsonc)
        #expect(json["a"]?.elements?.count == 2)
        #expect(json["b"]?["c"] != nil)
        #expect(Self.error(text, .strict) != nil)
        #expect(Self.error("[1,,2]", .jsonc) != nil)
        #expect(Self.error("[,]", .jsonc) != nil)
        #expect(Self.error("{,}", .jsonc) != nil)
        #expect(Self.error("[1] /* open", .jsonc)?.message == "unterminated /* comment")
        #expect(try Self.parse("\u{FEFF}[1]", .jsonc).elements?.count == 1)
        #expect(Self.error("\u{FEFF}[1]", .strict) != nil)
    }

    @Test(arguments: [
        ("[1 2]", 1, 4, "expected ',' or ']'"), ("{\"a\" 1}", 1, 6, "expected ':' after the key"),
        ("\n\n  [\"é\", x]", 3, 9, "unexpected character, expected a value"), ("\"abc", 1, 1, "unterminated string"),
        ("[\"a\nb\"]", 1, 4, "unterminated string (a newline must be written \\n)"), ("[\"\\x\"]", 1, 3, "invalid escape '\\x' in a string"),
        ("[1] 2", 1, 5, "unexpected text after the JSON value"), ("", 1, 1, "unexpected end of input, expected a value"),
        ("tru", 1, 1, "unexpected character, expected a value"), ("[truex]", 1, 2, "unexpected character, expected a value"),
        ("[\"\u{1}\"]", 1, 3, "control character in a string (write it as a \\u escape)"),
    ] as [(String, Int, Int, String)])
    func errorsHaveLineAndColumn(_ text: String, _ line: Int, _ column: Int, _ message: String) throws {
        let error = try #require(Self.error(text))
        #expect(error.message == message)
        #expect(error.location.line == line && error.location.column == column, "\(error.location)")
    }

    @Test func invalidUTF8IsAnError() throws {
        let error = try #require(Self.error(bytes: [0x22, 0x61, 0xFF, 0x22]))
        #expect(error.message == "invalid UTF-8" && error.location.offset == 2)
    }

    @Test func nestingIsBounded() throws {
        for opener in ["[", "{\"a\":"] {
            let deep = String(repeating: opener, count: 100_000)
            let error = try #require(Self.error(deep, .jsonc))
            #expect(error.message == "nesting deeper than 64 levels")
        }
        let allowed = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(Self.error(allowed) == nil)
    }

    @Test func devContainerErrorsNameTheFile() throws {
        do {
            _ = try DevContainerJSON.parse(Array("{\"image\": -01}".utf8), path: ".devcontainer/devcontainer.json")
            Issue.record("accepted -01")
        } catch {
            #expect("\(error)".contains(".devcontainer/devcontainer.json:1:11: error: invalid number"), "\(error)")
        }
    }

    /// Issue 15: a 400 KB one-line file took over a minute (every location recounted the
    /// line from its start). Loose linearity: 20 times the input may not cost more than 60
    /// times the time (quadratic would be 400 times); timing itself is in bench/json-bench.sh.
    @Test func longLinesParseInLinearTime() throws {
        func oneLine(_ entries: Int) -> [UInt8] {
            Array(("{" + (0..<entries).map { "\"key\($0)\": [\"välue \($0)\", \($0).5, true, null]" }.joined(separator: ",") + "}").utf8)
        }
        func seconds(_ bytes: [UInt8]) throws -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let start = ContinuousClock.now
                _ = try JSONReader.parse(bytes, dialect: .jsonc)
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            return best
        }
        let small = oneLine(5_000)
        let large = oneLine(100_000)
        #expect(small.count > 150_000 && large.count > 3_000_000)
        let ratio = try seconds(large) / max(seconds(small), 1e-6)
        #expect(ratio < 60, "4 MB took \(ratio) times as long as 200 KB")
    }
}

extension DevContainerJSON.Value {
    var number: String? {
        if case let .number(text) = self { return text }
        return nil
    }
}
