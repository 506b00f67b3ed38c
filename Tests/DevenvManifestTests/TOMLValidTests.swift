import Testing
@testable import DevenvManifest

/// Valid TOML 1.0 documents (in the spirit of toml-test's `valid/` corpus) and the value
/// each must produce.
struct ValidCase: Sendable, CustomTestStringConvertible {
    let name: String
    let source: String
    let expected: String
    var testDescription: String { name }

    init(_ name: String, _ source: String, _ expected: String) {
        self.name = name
        self.source = source
        self.expected = expected
    }
}

let validCases: [ValidCase] = [
    ValidCase("empty file", "", "{}"),
    ValidCase("comment only", "# just a comment\n", "{}"),
    ValidCase("bare keys", "key = \"value\"\nbare_key-1 = 1\n1234 = 2", #"{"key": "value", "bare_key-1": int:1, "1234": int:2}"#),
    ValidCase("quoted keys", "\"127.0.0.1\" = \"v\"\n\"ʎǝʞ\" = 1\n'quoted \"value\"' = 2", #"{"127.0.0.1": "v", "ʎǝʞ": int:1, "quoted \"value\"": int:2}"#),
    ValidCase("empty quoted key", "\"\" = 1", #"{"": int:1}"#),
    ValidCase("dotted keys", "physical.color = \"orange\"\nphysical.shape = \"round\"", #"{"physical": {"color": "orange", "shape": "round"}}"#),
    ValidCase("dotted keys with whitespace", "a . b\t. c = 1", #"{"a": {"b": {"c": int:1}}}"#),
    ValidCase("dotted quoted key", "site.\"google.com\" = true", #"{"site": {"google.com": bool:true}}"#),
    ValidCase("float-looking key is dotted", "3.14159 = \"pi\"", #"{"3": {"14159": "pi"}}"#),
    ValidCase("keyword-looking keys", "true = 1\ninf = 2\nnan = 3", #"{"true": int:1, "inf": int:2, "nan": int:3}"#),
    ValidCase("basic string escapes", #"s = "\b\t\n\f\r\"\\""#, #"{"s": "\u{8}\t\n\u{c}\r\"\\"}"#),
    ValidCase("unicode escapes", #"s = "\u00e9\U0001F600""#, #"{"s": "é😀"}"#),
    ValidCase("NUL escape is valid TOML", #"s = "a\u0000b""#, #"{"s": "a\u{0}b"}"#),
    ValidCase("raw unicode", "s = \"日本語 ünï\"", #"{"s": "日本語 ünï"}"#),
    ValidCase("raw tab in string", "s = \"a\tb\"", #"{"s": "a\tb"}"#),
    ValidCase("literal string", #"s = 'C:\Users\nodejs'"#, #"{"s": "C:\\Users\\nodejs"}"#),
    ValidCase("literal string keeps escapes", #"s = '\e'"#, #"{"s": "\\e"}"#),
    ValidCase("multi-line basic trims first newline", "s = \"\"\"\nRoses\nViolets\"\"\"", #"{"s": "Roses\nViolets"}"#),
    ValidCase("line-ending backslash", "s = \"\"\"\nThe quick \\\n\n   brown \\   \n  fox.\"\"\"", #"{"s": "The quick brown fox."}"#),
    ValidCase("escaped backslash before newline", "s = \"\"\"a\\\\\nb\"\"\"", #"{"s": "a\\\nb"}"#),
    ValidCase("quotes inside multi-line", #"s = """two quotes: "". ok""""#, #"{"s": "two quotes: \"\". ok"}"#),
    ValidCase("quotes before closing delimiter", #"s = """"This," she said, "is pointless."""""#, #"{"s": "\"This,\" she said, \"is pointless.\""}"#),
    ValidCase("five quotes at the end", #"s = """a""""""#, #"{"s": "a\"\""}"#),
    ValidCase("multi-line literal", "s = '''\nThe first newline is\ntrimmed in raw strings.\n'''", #"{"s": "The first newline is\ntrimmed in raw strings.\n"}"#),
    ValidCase("multi-line literal with quotes", "s = ''''That,' she said, 'is still pointless.''''", #"{"s": "'That,' she said, 'is still pointless.'"}"#),
    ValidCase("multi-line CRLF becomes LF", "s = \"\"\"\r\na\r\nb\"\"\"", #"{"s": "a\nb"}"#),
    ValidCase("integers", "a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221\ng = -0\nh = +0",
              #"{"a": int:99, "b": int:42, "c": int:0, "d": int:-17, "e": int:1000, "f": int:5349221, "g": int:0, "h": int:0}"#),
    ValidCase("hex, octal, binary", "a = 0xDEADBEEF\nb = 0xdead_beef\nc = 0o755\nd = 0b11010110\ne = 0x0\nf = 0o0",
              #"{"a": int:3735928559, "b": int:3735928559, "c": int:493, "d": int:214, "e": int:0, "f": int:0}"#),
    ValidCase("64-bit bounds", "max = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF",
              #"{"max": int:9223372036854775807, "min": int:-9223372036854775808, "hex": int:9223372036854775807}"#),
    ValidCase("floats", "a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\nh = 224_617.445_991_228\ni = 0e0\nj = -0.0",
              #"{"a": float:1.0, "b": float:3.1415, "c": float:-0.01, "d": float:5e+22, "e": float:1000000.0, "f": float:-0.02, "g": float:6.626e-34, "h": float:224617.445991228, "i": float:0.0, "j": float:-0.0}"#),
    ValidCase("inf and nan", "a = inf\nb = +inf\nc = -inf\nd = nan\ne = -nan\nf = +nan",
              #"{"a": float:inf, "b": float:inf, "c": float:-inf, "d": float:nan, "e": float:nan, "f": float:nan}"#),
    ValidCase("booleans", "t = true\nf = false", #"{"t": bool:true, "f": bool:false}"#),
    ValidCase("offset date-times", "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00-07:00\nc = 1979-05-27T00:32:00.999999+05:30\nd = 1979-05-27 07:32:00z\ne = 1979-05-27t07:32:00Z",
              #"{"a": odt:1979-05-27T07:32:00+00:00, "b": odt:1979-05-27T00:32:00-07:00, "c": odt:1979-05-27T00:32:00.999999+05:30, "d": odt:1979-05-27T07:32:00+00:00, "e": odt:1979-05-27T07:32:00+00:00}"#),
    ValidCase("local date-times, dates, times", "a = 1979-05-27T07:32:00\nb = 1979-05-27T00:32:00.5\nc = 1979-05-27\nd = 07:32:00\ne = 00:32:00.999999",
              #"{"a": ldt:1979-05-27T07:32:00, "b": ldt:1979-05-27T00:32:00.5, "c": ld:1979-05-27, "d": lt:07:32:00, "e": lt:00:32:00.999999}"#),
    ValidCase("fraction truncated to nanoseconds", "t = 00:00:00.1234567899", #"{"t": lt:00:00:00.123456789}"#),
    ValidCase("leap day and leap second", "d = 2000-02-29\nt = 23:59:60", #"{"d": ld:2000-02-29, "t": lt:23:59:60}"#),
    ValidCase("date followed by comment", "d = 1979-05-27 # birthday\ne = 1979-05-27 ", #"{"d": ld:1979-05-27, "e": ld:1979-05-27}"#),
    ValidCase("arrays", "a = [ 1, 2, 3 ]\nb = [ \"red\", \"yellow\" ]\nc = [ [ 1, 2 ], [3, 4, 5] ]\nd = []",
              #"{"a": [int:1, int:2, int:3], "b": ["red", "yellow"], "c": [[int:1, int:2], [int:3, int:4, int:5]], "d": []}"#),
    ValidCase("mixed-type arrays", "a = [ 0.5, 1 ]\nb = [\"all\", 'strings', \"\"\"are\"\"\", '''same''']\nc = [ [ 1 ], [\"a\"] ]",
              #"{"a": [float:0.5, int:1], "b": ["all", "strings", "are", "same"], "c": [[int:1], ["a"]]}"#),
    ValidCase("multi-line array with comments and trailing comma", "a = [\n  1, # one\n  2,\n  # nothing\n]", #"{"a": [int:1, int:2]}"#),
    ValidCase("array of inline tables", "points = [ { x = 1, y = 2 }, { x = 7 } ]", #"{"points": [{"x": int:1, "y": int:2}, {"x": int:7}]}"#),
    ValidCase("inline tables", "name = { first = \"Tom\", last = \"Preston-Werner\" }\nanimal = { type.name = \"pug\" }\nempty = {}",
              #"{"name": {"first": "Tom", "last": "Preston-Werner"}, "animal": {"type": {"name": "pug"}}, "empty": {}}"#),
    ValidCase("inline table with nested values", "a = { b = [1, { c = 2 }], d.e = 3, d.f = 4 }", #"{"a": {"b": [int:1, {"c": int:2}], "d": {"e": int:3, "f": int:4}}}"#),
    ValidCase("tables", "[table-1]\nkey1 = \"some string\"\n[table-2]\nkey2 = 456", #"{"table-1": {"key1": "some string"}, "table-2": {"key2": int:456}}"#),
    ValidCase("header with whitespace and quotes", "[ j . \"ʞ\" . 'l' ]\nk = 1", #"{"j": {"ʞ": {"l": {"k": int:1}}}}"#),
    ValidCase("super-table after sub-table", "[x.y.z.w]\n[x]\na = 1", #"{"x": {"y": {"z": {"w": {}}}, "a": int:1}}"#),
    ValidCase("sub-table of a dotted table", "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
              #"{"fruit": {"apple": {"color": "red", "taste": {"sweet": bool:true}, "texture": {"smooth": bool:true}}}}"#),
    ValidCase("root dotted table extended by header", "a.b.c = 1\n[a.b.d]\ne = 2", #"{"a": {"b": {"c": int:1, "d": {"e": int:2}}}}"#),
    ValidCase("dotted keys across lines", "a.b = 1\na.c = 2", #"{"a": {"b": int:1, "c": int:2}}"#),
    ValidCase("array of tables", "[[products]]\nname = \"Hammer\"\n[[products]]\n[[products]]\nname = \"Nail\"",
              #"{"products": [{"name": "Hammer"}, {}, {"name": "Nail"}]}"#),
    ValidCase("nested arrays of tables",
              "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.varieties]]\nname = \"red delicious\"\n[[fruits.varieties]]\nname = \"granny smith\"\n[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"",
              #"{"fruits": [{"name": "apple", "physical": {"color": "red"}, "varieties": [{"name": "red delicious"}, {"name": "granny smith"}]}, {"name": "banana", "varieties": [{"name": "plantain"}]}]}"#),
    ValidCase("CRLF line endings", "a = 1\r\nb = \"x\" # c\r\n[t]\r\n", #"{"a": int:1, "b": "x", "t": {}}"#),
    ValidCase("byte order mark", "\u{FEFF}a = 1", #"{"a": int:1}"#),
    ValidCase("comments everywhere", "# c\na = 1 # c\n[t] # c\nb = [ # c\n 1 # c\n] # c\n", #"{"a": int:1, "t": {"b": [int:1]}}"#),
    ValidCase("tabs as whitespace", "\ta\t=\t1\t\n", #"{"a": int:1}"#),
    ValidCase("no spaces", "a=1\nb={c=2}", #"{"a": int:1, "b": {"c": int:2}}"#),
]

@Test("valid TOML parses to the expected value", arguments: validCases)
func validTOML(_ testCase: ValidCase) throws {
    let table = try TOML.parse(Array(testCase.source.utf8), path: "test.toml")
    #expect(TOMLDump.dump(table) == testCase.expected)
}

@Test func locationsOfKeysAndValues() throws {
    let source = "# header\n[tool]\n  name = \"x\"\n  list = [\n    1, 'ünï', 3 ]\n"
    let table = try TOML.parse(Array(source.utf8), path: "t.toml")
    let tool = try #require(table["tool"])
    #expect(tool.keyLocation == SourceLocation(line: 2, column: 2, offset: 10))
    #expect(tool.node.location.line == 2 && tool.node.location.column == 1)
    let inner = try #require(tool.node.value.tableValue)
    let name = try #require(inner["name"])
    #expect(name.keyLocation.line == 3 && name.keyLocation.column == 3 && name.keyWidth == 4)
    #expect(name.node.location.column == 10 && name.node.width == 3)
    let items = try #require(inner["list"]?.node.value.arrayValue)
    #expect(items.map(\.location.line) == [5, 5, 5])
    #expect(items.map(\.location.column) == [5, 8, 15])
    #expect(items[1].width == 5)
}

@Test func columnsCountScalarsAfterMultiByteText() throws {
    let table = try TOML.parse(Array("\"日本\" = 'ü'".utf8), path: "t.toml")
    let entry = try #require(table["日本"])
    #expect(entry.node.location.column == 8)
}

@Test func byteOrderMarkDoesNotShiftColumns() throws {
    let table = try TOML.parse(Array("\u{FEFF}a = 1".utf8), path: "t.toml")
    #expect(table["a"]?.keyLocation == SourceLocation(line: 1, column: 1, offset: 3))
}

@Test func tableOrigins() throws {
    let table = try TOML.parse(Array("a.b = 1\n[c.d]\n[[e]]\nf = {}".utf8), path: "t.toml")
    #expect(table["a"]?.node.value.tableValue?.origin == .dotted)
    #expect(table["c"]?.node.value.tableValue?.origin == .implicit)
    #expect(table["c"]?.node.value.tableValue?["d"]?.node.value.tableValue?.origin == .header)
    let element = table["e"]?.node.value.arrayValue?.first?.value.tableValue
    #expect(element?.origin == .arrayHeader)
    #expect(element?["f"]?.node.value.tableValue?.origin == .inline)
}

@Test func deepButAllowedNesting() throws {
    let depth = 128
    let source = "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    let table = try TOML.parse(Array(source.utf8), path: "t.toml")
    var value = try #require(table["a"]?.node.value)
    var levels = 0
    while case let .array(items) = value {
        levels += 1
        guard let first = items.first else { break }
        value = first.value
    }
    #expect(levels == depth)
}

@Test func manyKeysParse() throws {
    var source = ""
    for index in 0..<50_000 { source += "k\(index) = \(index)\n" }
    let table = try TOML.parse(Array(source.utf8), path: "t.toml")
    #expect(table.entries.count == 50_000)
    #expect(table["k49999"]?.node.value == .integer(49_999))
}

@Test func longSingleLineArrayParses() throws {
    let source = "a = [" + String(repeating: "1,", count: 200_000) + "]"
    let table = try TOML.parse(Array(source.utf8), path: "t.toml")
    let items = try #require(table["a"]?.node.value.arrayValue)
    #expect(items.count == 200_000)
    #expect(items.last?.location.column == 5 + 2 * 199_999 + 1)
}
