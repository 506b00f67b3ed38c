import Testing
@testable import DevenvAdopt

/// Dockerfile syntax exactly as BuildKit's parser reads it (frontend/dockerfile/parser and
/// its shell lexer), one case per difference found in issue 15.
struct DockerCompatibilityTests {
    static func dump(_ text: String) throws -> String {
        Dump.dockerfile(try parse("FROM busybox\n" + text)).split(separator: "\n").dropFirst().joined(separator: "\n")
    }

    @Test func anEscapedEscapeAtTheEndOfALineDoesNotContinue() throws {
        #expect(try Self.dump("RUN echo a\\\\\nRUN echo b\n") == #"""
            2:1 RUN shell "echo a\\\\"
            3:1 RUN shell "echo b"
            """#)
        #expect(try Self.dump("RUN echo a \\\\  \t\nRUN echo b\n").components(separatedBy: "\n").count == 2)
        #expect(try Self.dump("RUN echo a \\\n b\n") == #"2:1 RUN shell "echo a  b""#)
        #expect(try Self.dump("RUN echo a \\\n\\\n b\n") == #"2:1 RUN shell "echo a  b""#)
        let backtick = try parse("# escape=`\nFROM busybox\nRUN echo a``\nRUN echo b `\n c\n")
        #expect(Dump.dockerfile(backtick).hasSuffix("3:1 RUN shell \"echo a``\"\n4:1 RUN shell \"echo b  c\""))
    }

    @Test func doubleDashEndsTheFlags() throws {
        #expect(try Self.dump("COPY -- a /b\n") == #"2:1 COPY sources=["a"] dest="/b""#)
        #expect(try Self.dump("COPY --chown=1:2 -- --weird /b\n") == #"2:1 COPY sources=["--weird"] dest="/b" chown="1:2""#)
        #expect(try Self.dump("ADD -- a b /c/\n") == #"2:1 ADD sources=["a","b"] dest="/c/""#)
        #expect(try Self.dump("RUN -- echo --flag\n") == #"2:1 RUN shell "echo --flag""#)
    }

    @Test(arguments: [
        // marker, heredoc name, expands
        ("<<EOF", "EOF", true), ("<<-EOF", "EOF", true), ("<<\"EOF\"", "EOF", false), ("<<'EOF'", "EOF", false),
        ("<<-'EOF'", "EOF", false), ("<<E\"O\"F", "EOF", false), ("<<\\EOF", "EOF", true), ("<<\"EOF X\"", "EOF X", false),
        ("<<$EOF", "$EOF", true), ("2<<EOF", "EOF", true),
    ])
    func heredocMarkers(_ marker: String, _ name: String, _ expands: Bool) throws {
        let file = try parse("FROM busybox\nRUN cat \(marker)\n\tline $A\n\(name)\nRUN done\n")
        let instructions = file.stages[0].instructions
        #expect(instructions.count == 2, "\(marker)")
        guard case let .run(run) = instructions[0].command else { Issue.record("not a RUN"); return }
        #expect(run.heredocs.map(\.name) == [name])
        #expect(run.heredocs.first?.expand == expands, "\(marker)")
        let chomp = marker.contains("<<-")
        #expect(run.heredocs.first?.content == (chomp ? "line $A\n" : "\tline $A\n"))
    }

    @Test func whatIsNoHeredoc() throws {
        // `<< EOF` is two words; the exec form never has heredocs; `<<<` is a here-string.
        #expect(try Self.dump("RUN cat << EOF\nRUN true\n").components(separatedBy: "\n").count == 2)
        #expect(try Self.dump("RUN [\"cat\", \"<<EOF\"]\nRUN true\n") == #"""
            2:1 RUN exec ["cat","<<EOF"]
            3:1 RUN true
            """#.replacingOccurrences(of: "RUN true", with: #"RUN shell "true""#))
        #expect(try Self.dump("RUN cat <<<EOF\nRUN true\n").components(separatedBy: "\n").count == 2)
        #expect(try Self.dump("COPY [\"<<EOF\", \"/x\"]\nRUN true\n").components(separatedBy: "\n").count == 2)
    }

    @Test func onbuildHeredocBodiesAreNotInstructions() throws {
        let file = try parse("FROM busybox\nONBUILD RUN <<EOF\nFROM nothing\nEOF\nRUN true\n")
        #expect(file.stages.count == 1)
        #expect(file.stages[0].instructions.map(\.keyword) == ["ONBUILD", "RUN"])
    }

    @Test(arguments: [
        "CMD [\"a\", [\"b\"]]", "CMD [\"a\", 1]", "CMD [\"a\", null]", "CMD [true]", "CMD [{\"a\": \"b\"}]",
        "RUN [\"a\", 1.5]", "ENTRYPOINT [[]]", "SHELL [\"/bin/sh\", 1]", "VOLUME [\"/a\", 1]", "COPY [\"a\", 1, \"/b\"]",
    ])
    func wellFormedArraysOfOtherThanStringsAreErrors(_ line: String) throws {
        let error = try #require(parseError("FROM busybox\n\(line)\n"))
        #expect("\(error)".contains("Dockerfile:2:1: error: when using JSON array syntax, arrays must be comprised of strings only"), "\(error)")
    }

    @Test(arguments: [
        ("CMD [\"a\",]", "CMD shell \"[\\\"a\\\",]\""), ("CMD [\"a\" \"b\"]", "CMD shell \"[\\\"a\\\" \\\"b\\\"]\""),
        ("CMD [1e400]", "CMD shell \"[1e400]\""), ("CMD [\"a\"] x", "CMD shell \"[\\\"a\\\"] x\""), ("CMD [-01]", "CMD shell \"[-01]\""),
        ("CMD ['a']", "CMD shell \"[\\'a\\']\""), ("CMD []", "CMD exec []"), ("CMD [ \"a\" ]  ", "CMD exec [\"a\"]"),
        ("CMD [\"\\uD888\\u1234\"]", "CMD exec [\"\u{FFFD}\u{1234}\"]"), ("CMD [\"a\\u0000\"]", "CMD exec [\"a\\0\"]"),
        ("VOLUME [/a", "VOLUME [\"[/a\"]"), ("CMD [\"a\" /* c */]", "CMD shell \"[\\\"a\\\" /* c */]\""),
    ])
    func malformedJSONFallsBackToTheShellForm(_ line: String, _ expected: String) throws {
        let dump = try Self.dump(line + "\n")
        #expect(dump == "2:1 " + expected, "\(line)")
    }
}
