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
        ("${A:=x}", "unsupported modifier '=' in substitution of 'A'"), ("${A#x}", "unsupported modifier '#' in substitution of 'A'"),
        ("'open", "unexpected end of text while looking for the matching single quote"),
        ("\"open", "unexpected end of text while looking for the matching double quote"),
        ("${UNSET:?}", "UNSET: is not allowed to be unset"), ("${E:?must be set}", "E: must be set"), ("${UNSET?gone}", "UNSET: gone"),
    ])
    func errors(_ input: String, _ message: String) {
        #expect(throws: ShellExpander.Failure.self) { try expander.word(input) }
        #expect((try? expander.word(input)) == nil)
        do { _ = try expander.word(input) } catch { #expect("\(error)" == message) }
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
