import Testing
@testable import DevenvManifest

/// Invalid TOML 1.0 documents (in the spirit of toml-test's `invalid/` corpus) with the
/// exact first error and where it is reported.
struct InvalidCase: Sendable, CustomTestStringConvertible {
    let name: String
    let source: [UInt8]
    let message: String
    let line: Int
    let column: Int
    var testDescription: String { name }

    init(_ name: String, _ source: String, _ message: String, _ line: Int, _ column: Int) {
        self.init(name, bytes: Array(source.utf8), message, line, column)
    }

    init(_ name: String, bytes: [UInt8], _ message: String, _ line: Int, _ column: Int) {
        self.name = name
        self.source = bytes
        self.message = message
        self.line = line
        self.column = column
    }
}

let invalidCases: [InvalidCase] = [
    // Strings
    InvalidCase("unterminated string", "image = \"ubuntu", "unterminated string: a single-line string must end on the line where it starts", 1, 9),
    InvalidCase("newline in basic string", "s = \"a\nb\"", "unterminated string: a single-line string must end on the line where it starts", 1, 5),
    InvalidCase("newline in literal string", "s = 'a\nb'", "unterminated string: a single-line string must end on the line where it starts", 1, 5),
    InvalidCase("unterminated multi-line string", "s = \"\"\"abc\n", "unterminated multi-line string", 1, 5),
    InvalidCase("unterminated multi-line literal", "s = '''abc''", "unterminated multi-line string", 1, 5),
    InvalidCase("six quotes at the end", "s = \"\"\"a\"\"\"\"\"\"", "too many quotes at the end of a multi-line string", 1, 15),
    InvalidCase("invalid escape", #"s = "\q""#, "invalid escape sequence '\\q'", 1, 6),
    InvalidCase("backslash space", #"s = "\ ""#, "invalid escape sequence '\\ '", 1, 6),
    InvalidCase("backslash space in multi-line", "s = \"\"\"\\ a\"\"\"", "invalid escape sequence '\\ '", 1, 8),
    InvalidCase("backslash at end of single line", "s = \"a\\\n\"", "a backslash at the end of a line is only allowed in a multi-line string", 1, 7),
    InvalidCase("TOML 1.1 escape \\e", #"s = "\e""#, "escape sequence '\\e' is TOML 1.1; this file must be TOML 1.0", 1, 6),
    InvalidCase("TOML 1.1 escape \\x", #"s = "\x41""#, "escape sequence '\\x' is TOML 1.1; this file must be TOML 1.0", 1, 6),
    InvalidCase("surrogate escape", #"s = "\uD800""#, "escape '\\uD800' is not a Unicode scalar value", 1, 6),
    InvalidCase("escape above U+10FFFF", #"s = "\U00110000""#, "escape '\\U110000' is not a Unicode scalar value", 1, 6),
    InvalidCase("short \\u escape", #"s = "\u12""#, "'\\u' needs 4 hexadecimal digits", 1, 6),
    InvalidCase("raw escape character", "s = \"a\u{1b}b\"", "control character U+001B must be escaped in a string", 1, 7),
    InvalidCase("raw DEL in literal", "s = 'a\u{7f}'", "control character U+007F must be escaped in a string", 1, 7),
    InvalidCase("raw NUL in multi-line", "s = \"\"\"a\u{0}\"\"\"", "control character U+0000 must be escaped in a string", 1, 9),
    InvalidCase("multi-line string as key", "\"\"\"a\"\"\" = 1", "a multi-line string cannot be a key", 1, 1),
    InvalidCase("two strings", "s = \"abc\" \"def\"", "expected a newline after a value, found '\"'", 1, 11),
    // Comments, newlines, encoding
    InvalidCase("NUL in comment", "# a\u{0}b", "control character U+0000 is not allowed in a comment", 1, 4),
    InvalidCase("lone carriage return", "a = 1\rb = 2", "a carriage return must be followed by a line feed", 1, 6),
    InvalidCase("invalid UTF-8", bytes: Array("a = \"".utf8) + [0xFF, 0x22], "invalid UTF-8 (byte 0xff)", 1, 6),
    InvalidCase("overlong UTF-8", bytes: Array("a = \"".utf8) + [0xC0, 0x80, 0x22], "invalid UTF-8 (byte 0xc0)", 1, 6),
    InvalidCase("UTF-8 surrogate on line 2", bytes: Array("a = 1\nb = \"".utf8) + [0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 (byte 0xed)", 2, 6),
    InvalidCase("truncated UTF-8 at end", bytes: Array("a = 'é".utf8) + [0xE6, 0x97], "invalid UTF-8 (byte 0xe6)", 1, 7),
    // Keys and statements
    InvalidCase("duplicate key", "a = 1\na = 2", "duplicate key 'a' (first defined at 1:1)", 2, 1),
    InvalidCase("duplicate key quoted", "a = 1\n\"a\" = 2", "duplicate key 'a' (first defined at 1:1)", 2, 1),
    InvalidCase("duplicate key in table", "[t]\nb = 1\nb = 2", "duplicate key 't.b' (first defined at 2:1)", 3, 1),
    InvalidCase("missing value", "a = ", "expected a value, found end of file", 1, 5),
    InvalidCase("missing value before newline", "a =\nb = 1", "expected a value, found a newline", 1, 4),
    InvalidCase("missing equals", "a 1", "expected '=' after the key 'a', found '1'", 1, 3),
    InvalidCase("key split over lines", "a\n= 1", "expected '=' after the key 'a', found a newline", 1, 2),
    InvalidCase("no key", "= 1", "expected a key, found '='", 1, 1),
    InvalidCase("trailing dot in key", "a. = 1", "expected a key, found '='", 1, 4),
    InvalidCase("two pairs on a line", "a = 1 b = 2", "expected a newline after a value, found 'b'", 1, 7),
    InvalidCase("unquoted string", "image = ubuntu", "expected a value, found 'ubuntu' (strings must be in quotes)", 1, 9),
    InvalidCase("capitalised boolean", "a = True", "expected a value, found 'True' (strings must be in quotes)", 1, 5),
    InvalidCase("capitalised inf", "a = Inf", "expected a value, found 'Inf' (strings must be in quotes)", 1, 5),
    // Numbers
    InvalidCase("leading zero", "a = 01", "leading zeros are not allowed in '01'", 1, 5),
    InvalidCase("leading zero float", "a = 01.5", "leading zeros are not allowed in '01.5'", 1, 5),
    InvalidCase("double underscore", "a = 1__0", "an underscore in a number must be between digits: '1__0'", 1, 5),
    InvalidCase("trailing underscore", "a = 1_", "an underscore in a number must be between digits: '1_'", 1, 5),
    InvalidCase("underscore before exponent", "a = 1_e2", "an underscore in a number must be between digits: '1_e2'", 1, 5),
    InvalidCase("integer overflow", "a = 9223372036854775808", "integer '9223372036854775808' does not fit in 64 bits", 1, 5),
    InvalidCase("hex overflow", "a = 0x8000000000000000", "integer '0x8000000000000000' does not fit in 64 bits", 1, 5),
    InvalidCase("sign on hex", "a = +0x1", "a sign is not allowed on a hexadecimal, octal or binary integer: '+0x1'", 1, 5),
    InvalidCase("uppercase hex prefix", "a = 0X1", "invalid number '0X1'", 1, 5),
    InvalidCase("bad hex digit", "a = 0xG", "invalid number '0xG'", 1, 5),
    InvalidCase("bad octal digit", "a = 0o8", "invalid number '0o8'", 1, 5),
    InvalidCase("float without integer part", "a = .5", "invalid number '.5': digits expected", 1, 5),
    InvalidCase("float without fraction", "a = 7.", "invalid number '7.': digits expected", 1, 5),
    InvalidCase("float dot before exponent", "a = 3.e+20", "invalid number '3.e+20': digits expected", 1, 5),
    InvalidCase("exponent without digits", "a = 1e", "invalid number '1e': digits expected", 1, 5),
    InvalidCase("two dots", "a = 1.5.3", "invalid number '1.5.3'", 1, 5),
    InvalidCase("float overflow", "a = 1e1_000", "float '1e1_000' is out of range", 1, 5),
    // Dates and times
    InvalidCase("month 13", "d = 1979-13-01", "invalid date or time '1979-13-01': month 13 is not between 01 and 12", 1, 5),
    InvalidCase("February 29 in a common year", "d = 2021-02-29", "invalid date or time '2021-02-29': day 29 does not exist in that month", 1, 5),
    InvalidCase("hour 24", "t = 24:00:00", "invalid date or time '24:00:00': hour 24 is not between 00 and 23", 1, 5),
    InvalidCase("minute 60", "t = 12:60:00", "invalid date or time '12:60:00': minute 60 is not between 00 and 59", 1, 5),
    InvalidCase("TOML 1.1 time without seconds", "t = 07:32", "invalid date or time '07:32': seconds are required in TOML 1.0", 1, 5),
    InvalidCase("date-time without seconds", "d = 1979-05-27T07:32Z", "invalid date or time '1979-05-27T07:32Z': seconds are required in TOML 1.0", 1, 5),
    InvalidCase("bad offset", "d = 1979-05-27T07:32:00+7:00", "invalid date or time '1979-05-27T07:32:00+7:00': the offset hour must have 2 digits", 1, 5),
    InvalidCase("date-time with trailing text", "d = 1979-05-27T07:32:00Zjunk", "invalid date or time '1979-05-27T07:32:00Zjunk': unexpected text after the value", 1, 5),
    InvalidCase("T without time", "d = 1979-05-27T", "invalid date or time '1979-05-27T': the hour must have 2 digits", 1, 5),
    // Arrays and inline tables
    InvalidCase("array missing comma", "a = [1 2]", "expected ',' or ']' after an array element, found '2'", 1, 8),
    InvalidCase("array leading comma", "a = [,1]", "expected a value, found ','", 1, 6),
    InvalidCase("unterminated array", "a = [1,", "expected a value, found end of file", 1, 8),
    InvalidCase("extra bracket", "a = [1, 2]]", "expected a newline after a value, found ']'", 1, 11),
    InvalidCase("trailing comma in inline table", "a = {b = 1,}", "a trailing comma is not allowed in an inline table (TOML 1.0)", 1, 12),
    InvalidCase("newline in inline table", "a = {b = 1,\nc = 2}", "an inline table must be on a single line (TOML 1.0), found a newline", 1, 12),
    InvalidCase("comment in inline table", "a = { b = 1 # c\n}", "an inline table must be on a single line (TOML 1.0), found '#'", 1, 13),
    InvalidCase("duplicate key in inline table", "a = {b = 1, b = 2}", "duplicate key 'a.b' (first defined at 1:6)", 1, 13),
    InvalidCase("inline table missing comma", "a = {b = 1 c = 2}", "expected ',' or '}' in an inline table, found 'c'", 1, 12),
    // Tables
    InvalidCase("table defined twice", "[a]\n[a]", "table [a] is defined twice (first at 1:1)", 2, 2),
    InvalidCase("table defined twice after sub-table", "[a.b]\n[a]\n[a]", "table [a] is defined twice (first at 2:1)", 3, 2),
    InvalidCase("table over a value", "[a]\nb = 1\n[a.b]", "cannot define table [a.b]: 'a.b' is already an integer (defined at 2:5)", 3, 4),
    InvalidCase("table over a root value", "a = 1\n[a]", "cannot define table [a]: 'a' is already an integer (defined at 1:5)", 2, 2),
    InvalidCase("header redefines dotted table", "[fruit]\napple.color = \"red\"\n[fruit.apple]", "table [fruit.apple] was already defined by dotted keys at 2:1", 3, 8),
    InvalidCase("dotted keys extend header table", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "cannot add to table [a.b] with dotted keys: it is defined by a header at 1:4", 4, 1),
    InvalidCase("dotted keys extend array of tables", "[[t.a]]\n[t]\na.b = 1", "cannot add to the array of tables [[t.a]] (defined at 1:5) with dotted keys", 3, 1),
    InvalidCase("dotted key over a value", "a = 1\na.b = 2", "cannot add key 'a.b': 'a' is already an integer (defined at 1:5)", 2, 1),
    InvalidCase("value over a dotted table", "a.b = 1\na = 2", "duplicate key 'a' (first defined at 1:1)", 2, 1),
    InvalidCase("extend inline table with header", "a = {b = 1}\n[a.c]", "cannot define table [a.c]: 'a' is an inline table (defined at 1:5), which cannot be extended", 2, 2),
    InvalidCase("extend inline table with dotted key", "a = {b = 1}\na.c = 2", "cannot add key 'a.c': 'a' is an inline table (defined at 1:5), which cannot be extended", 2, 1),
    InvalidCase("append to static array", "a = []\n[[a]]", "cannot append to [[a]]: 'a' is a static array (defined at 1:5)", 2, 3),
    InvalidCase("header through static array", "a = [{}]\n[a.b]", "cannot define table [a.b]: 'a' is a static array (defined at 1:5)", 2, 2),
    InvalidCase("table after array of tables", "[[a]]\n[a]", "[a] conflicts with the array of tables [[a]] defined at 1:3", 2, 2),
    InvalidCase("array of tables after table", "[a]\n[[a]]", "[[a]] conflicts with the table [a] defined at 1:1", 2, 3),
    InvalidCase("unclosed header", "[a", "expected ']' to close the table header, found end of file", 1, 3),
    InvalidCase("unclosed array header", "[[a]\n", "expected ']]' to close the table header, found a newline", 1, 5),
    InvalidCase("empty header", "[]", "expected a key, found ']'", 1, 2),
    InvalidCase("text after header", "[a] b = 1", "expected a newline after a table header, found 'b'", 1, 5),
]

@Test("invalid TOML gives the exact first error", arguments: invalidCases)
func invalidTOML(_ testCase: InvalidCase) {
    do {
        let table = try TOML.parse(testCase.source, path: "t.toml")
        Issue.record("parsed to \(TOMLDump.dump(table))")
    } catch let error as ManifestError {
        #expect(error.diagnostics.count == 1)
        let diagnostic = error.diagnostics[0]
        #expect(diagnostic.message == testCase.message)
        #expect(diagnostic.location.line == testCase.line)
        #expect(diagnostic.location.column == testCase.column)
    } catch {
        Issue.record("unexpected error type: \(error)")
    }
}

// MARK: - Resource limits

private func firstError(_ source: [UInt8], limits: TOMLLimits = .default) -> Diagnostic? {
    do {
        _ = try TOML.parse(source, path: "t.toml", limits: limits)
        return nil
    } catch let error as ManifestError {
        return error.diagnostics.first
    } catch {
        return nil
    }
}

@Test func deeplyNestedArraysFailCleanly() {
    let source = Array("a = ".utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
    let diagnostic = firstError(source)
    #expect(diagnostic?.message == "arrays, tables and dotted keys nested deeper than 128 levels")
    #expect(diagnostic?.location.column == 5 + 128)
}

@Test func deeplyNestedInlineTablesFailCleanly() {
    let source = "a = " + String(repeating: "{b = ", count: 100_000)
    let diagnostic = firstError(Array(source.utf8))
    #expect(diagnostic?.message == "arrays, tables and dotted keys nested deeper than 128 levels")
    #expect(diagnostic?.location.column == 5 + 127 * 5 + 1)  // the key of the 128th table
}

@Test func longDottedKeyFailsCleanly() {
    let source = String(repeating: "a.", count: 100_000) + "a = 1"
    let diagnostic = firstError(Array(source.utf8))
    #expect(diagnostic?.message == "key has more than 128 parts")
    #expect(diagnostic?.location.column == 1 + 128 * 2)
}

@Test func deepHeaderAndDottedKeysCombinedFailCleanly() {
    let header = "[" + Array(repeating: "t", count: 100).joined(separator: ".") + "]\n"
    let key = Array(repeating: "k", count: 29).joined(separator: ".") + " = 1"
    let diagnostic = firstError(Array((header + key).utf8))
    #expect(diagnostic?.message == "arrays, tables and dotted keys nested deeper than 128 levels")
    #expect(diagnostic?.location.line == 2)
}

@Test func fileOverTheSizeLimitFails() {
    let source = [UInt8](repeating: UInt8(ascii: "#"), count: (1 << 20) + 1)
    let diagnostic = firstError(source)
    #expect(diagnostic?.message == "file is 1048577 bytes, over the limit of 1048576 bytes")
    #expect(diagnostic?.location == .start)
}

@Test func longKeyFails() {
    let source = String(repeating: "k", count: 1025) + " = 1"
    #expect(firstError(Array(source.utf8))?.message == "key is longer than 1024 bytes")
    let quoted = "\"" + String(repeating: "k", count: 1025) + "\" = 1"
    #expect(firstError(Array(quoted.utf8))?.message == "key is longer than 1024 bytes")
}

@Test func longStringFails() {
    let source = "s = \"" + String(repeating: "a", count: (256 << 10) + 1) + "\""
    let diagnostic = firstError(Array(source.utf8))
    #expect(diagnostic?.message == "string is longer than 262144 bytes")
    #expect(diagnostic?.location.column == 5)
}

@Test func manyEscapesCountAfterUnescaping() {
    let limits = TOMLLimits(maxStringLength: 100)
    let fits = "s = \"" + String(repeating: "\\u0041", count: 100) + "\""
    #expect(firstError(Array(fits.utf8), limits: limits) == nil)
    let over = "s = \"" + String(repeating: "\\u0041", count: 101) + "\""
    #expect(firstError(Array(over.utf8), limits: limits)?.message == "string is longer than 100 bytes")
}

@Test func syntaxErrorRendersWithCaret() throws {
    let error = try capture(ManifestError.self) {
        try TOML.parse(Array("[base]\nimage = \"ubuntu\n".utf8), path: ".devenv/devenv.toml")
    }
    #expect(error.description == ".devenv/devenv.toml:2:9: error: unterminated string: a single-line string must end on the line where it starts")
    #expect(error.render() == """
        .devenv/devenv.toml:2:9: error: unterminated string: a single-line string must end on the line where it starts
         2 | image = "ubuntu
           |         ^
        """)
}

@Test func invalidUTF8LineRendersEscaped() throws {
    let error = try capture(ManifestError.self) {
        try TOML.parse(Array("a = \"x".utf8) + [0xFF, 0x1B] + Array("\"".utf8), path: "m.toml")
    }
    #expect(error.render() == """
        m.toml:1:7: error: invalid UTF-8 (byte 0xff)
         1 | a = "x\\xff\\x1b"
           |       ^
        """)
}

@Test func longLinesAreClippedAroundTheCaret() throws {
    let source = "a = [" + String(repeating: "1, ", count: 1000) + "x" + String(repeating: ", 1", count: 1000) + "]"
    let error = try capture(ManifestError.self) { try TOML.parse(Array(source.utf8), path: "t.toml") }
    let lines = error.render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0] == "t.toml:1:3006: error: expected a value, found 'x' (strings must be in quotes)")
    #expect(lines[1] == " 1 | …" + String(String(repeating: "1, ", count: 1000).suffix(120)) + "x" + String(String(repeating: ", 1", count: 1000).prefix(119)) + "…")
    #expect(lines[2] == "   | " + String(repeating: " ", count: 121) + "^")
}
