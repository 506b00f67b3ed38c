import Testing
@testable import DevenvAdopt

/// Variable substitution as BuildKit's shell lexer does it (table from its test suite's cases).
struct ShellExpanderTests {
    static let values: [String: String] = ["A": "alpha", "E": "", "SP": "a  b", "PATH": "/bin"]
    let expander = ShellExpander(escape: "\\") { ShellExpanderTests.values[$0] }

    @Test(arguments: [
        ("$A", "alpha"), ("${A}", "alpha"), ("x${A}y", "xalphay"), ("$A$A", "alphaalpha"),
        ("$UNSET", ""), ("${UNSET}", ""), ("$", "$"), ("a$", "a$"), ("$1", ""), ("$@x", "x"),
        ("${UNSET:-dflt}", "dflt"), ("${E:-dflt}", "dflt"), ("${A:-dflt}", "alpha"),
        ("${UNSET-dflt}", "dflt"), ("${E-dflt}", ""),
        ("${A:+set}", "set"), ("${E:+set}", ""), ("${E+set}", "set"), ("${UNSET+set}", ""),
        ("${UNSET:-${A}}", "alpha"), ("${UNSET:-'q $A'}", "q $A"), ("${UNSET:-\"q $A\"}", "q alpha"),
        ("'$A'", "$A"), ("\"$A\"", "alpha"), ("\\$A", "$A"), ("\"\\$A\"", "$A"), ("\"a\\b\"", "a\\b"),
        ("a\\ b", "a b"), ("\"it's\"", "it's"), ("'say \"hi\"'", "say \"hi\""), ("${PATH}:/opt", "/bin:/opt"),
        ("trailing\\", "trailing"), ("\"\"", ""),
    ])
    func word(_ input: String, _ expected: String) throws {
        #expect(try expander.word(input) == expected)
    }

    @Test(arguments: [
        ("${A", "syntax error: missing '}'"), ("${}", "syntax error: bad substitution"), ("${:-x}", "syntax error: bad substitution"),
        ("${A:=x}", "unsupported modifier ':=' in substitution of 'A'"), ("${A=x}", "unsupported modifier '=' in substitution of 'A'"),
        ("'open", "unexpected end of text while looking for the matching single quote"),
        ("\"open", "unexpected end of text while looking for the matching double quote"),
        ("${UNSET:?}", "UNSET: is not allowed to be unset"), ("${E:?must be set}", "E: must be set"), ("${UNSET?gone}", "UNSET: gone"),
    ])
    func errors(_ input: String, _ message: String) {
        #expect(throws: ShellExpander.Failure.self) { try expander.word(input) }
        #expect((try? expander.word(input)) == nil)
        do { _ = try expander.word(input) } catch { #expect("\(error)" == message) }
    }

    /// Pattern modifiers, with the cases of BuildKit's lexer tests (TestProcessWithMatches).
    @Test(arguments: [
        ("${F#*.}", "tar.gz"), ("${F##*.}", "gz"), ("${F%.*}", "file.tar"), ("${F%%.*}", "file"), ("${F#x}", "file.tar.gz"),
        ("${F:#*.}", "tar.gz"), ("${UNSET#x}", ""), ("${F#\"file.\"}", "tar.gz"),
        ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", "x"), ("${XX%%\\**}", "xx"), ("${XXYY#*x*y}", "y"), ("${XXYY#*}", "xxyy"),
        ("${XXYY#$X}", "xyy"), ("${XXYY#$E}", "xxyy"), ("${XXYY#}", "xxyy"), ("${XXYY##*x}", "yy"), ("${XXYY##}", "xxyy"),
        ("${Q#?\\?}", "?y"), ("${UNSET:-.}${XXYY%x}${UNSET:-.}", ".xxyy."), ("${STARS%%\\**\\*}", "a"), ("${XXYY%}", "xxyy"),
        ("${XXYY%%$E}", "xxyy"), ("${NL#*}", "a\nb"), ("${NL##*}", "\nb"),
        ("${GLOB/$NEEDLE/.} - ${GLOB//$NEEDLE/.}", "/foo.*/*.txt - /foo..*.txt"),
        ("${TMP/$SLASHTMP/} - ${TMP//$SLASHTMP/}", "/tmp/bar.txt - /bar.txt"),
        ("${ABC/$ONE/$SLASH} - ${ABC//$ONE/$SLASH}", "/foo/b/c.txt - /foo/c.txt"),
        ("${URL/http:\\/\\//https:\\/\\/}", "https:\\/\\/google.de"), ("${TMPFOO//\\//\\/}", "\\/tmp\\/foo.txt"),
        ("${XXYY/$E/ww}", "wwxxyy"), ("${XXYY///}", "xxyy"), ("${UNSET///}", ""), ("${XXYY//y/Y}", "xxYY"), ("${XXYY/y*/Z}", "xxZ"),
    ])
    func patternModifiers(_ input: String, _ expected: String) throws {
        let values = ["F": "file.tar.gz", "FOO": "()[]{}^$.*?|\\x", "XX": "xx**", "XXYY": "xxyy", "X": "x", "E": "", "Q": "???y",
                      "STARS": "a***yy*", "NL": "a\nb", "GLOB": "/foo*/*/*.txt", "NEEDLE": "\\*/", "TMP": "/tmp/tmp/bar.txt",
                      "SLASHTMP": "/tmp", "ABC": "/a/foo/b/c.txt", "ONE": "/?/", "SLASH": "/", "URL": "http://google.de",
                      "TMPFOO": "/tmp/foo.txt"]
        #expect(try ShellExpander(escape: "\\") { values[$0] }.word(input) == expected)
    }

    @Test(arguments: [
        ("${A//ww}", "syntax error: missing '/' in ${}"), ("${A//}", "syntax error: missing '/' in ${}"), ("${A/x/y", "syntax error: missing '}'"),
        ("${A#\\x}", "invalid pattern (\\\\x) in substitution: invalid escape '\\x'"), ("${A%:x}", nil), ("${A:x}", "unsupported modifier ':x' in substitution of 'A'"),
    ] as [(String, String?)])
    func patternModifierErrors(_ input: String, _ message: String?) {
        do {
            _ = try expander.word(input)
            #expect(message == nil, "\(input) expanded")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func unquotedExpansionsSplitIntoWords() throws {
        #expect(try expander.words("$SP x") == ["a", "b", "x"])
        #expect(try expander.words("\"$SP\" x") == ["a  b", "x"])
        #expect(try expander.words("'' x") == ["", "x"])
        #expect(try expander.words("$E") == [])
    }

    @Test func backtickEscape() throws {
        let windows = ShellExpander(escape: "`") { ShellExpanderTests.values[$0] }
        #expect(try windows.word("C:\\dir`$A") == "C:\\dir$A")
    }

    @Test func heredocContentKeepsQuotes() throws {
        #expect(try expander.heredoc("say \"$A\" and '$A' \\$A \\n\n") == "say \"alpha\" and 'alpha' $A \\n\n")
    }
}

/// Parser limits for Dockerfiles: nesting and size give clean errors, not crashes.
struct DockerfileExhaustionTests {
    @Test func deeplyNestedSubstitutionsAreAnError() throws {
        let deep = String(repeating: "${A:-", count: 100_000) + "x" + String(repeating: "}", count: 100_000)
        let expander = ShellExpander(escape: "\\") { _ in nil }
        #expect(throws: ShellExpander.Failure.self) { try expander.word(deep) }
        let message = planError("FROM busybox\nWORKDIR \(deep)\n")
        #expect(message?.hasSuffix("error: substitutions nested deeper than 64 levels") == true)
    }

    @Test func manyLinesAndLongLines() throws {
        let continued = "FROM busybox\nRUN true" + String(repeating: " \\\n && true", count: 50_000) + "\n"
        let file = try parse(continued)
        #expect(file.stages[0].instructions.count == 1)
        let long = "FROM busybox\nENV A=" + String(repeating: "x", count: 1 << 20) + "\n"
        #expect(try parse(long).stages[0].instructions.count == 1)
        let nestedJSON = "FROM busybox\nCMD " + String(repeating: "[", count: 100_000) + "\n"
        #expect(Dump.dockerfile(try parse(nestedJSON)).hasSuffix("CMD shell \"" + String(repeating: "[", count: 100_000) + "\""))
    }
}
