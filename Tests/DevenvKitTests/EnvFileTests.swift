import DevenvRuntime
import DevenvSession
import Testing

/// Docker's `--env-file` format (moby `opts/file.go`), as `EnvFile` reads it.
@Suite struct EnvFileTests {
    @Test func linesAreTakenLiterally() throws {
        let text = "\u{FEFF}# a comment\nA=1\n\n   B= spaced value \nQUOTED=\"kept\"\nDOLLAR=$HOME/x\nEMPTY=\nWITH=equals=inside\r\n  # indented comment\n"
        #expect(try EnvFile.parse(text, path: ".env", host: ["HOME": "/home/alice"]) == [
            "A=1", "B= spaced value ", "QUOTED=\"kept\"", "DOLLAR=$HOME/x", "EMPTY=", "WITH=equals=inside",
        ])
    }

    @Test func aNameWithWhitespaceIsAnError() {
        #expect(throws: RuntimeError.self) { try EnvFile.parse("B =x\n", path: ".env", host: [:]) }
        let error = #expect(throws: RuntimeError.self) { try EnvFile.parse("A=1\nB C=x\n", path: "/p/.env", host: [:]) }
        #expect(error?.message == "env file \"/p/.env\" line 2: variable \"B C\" contains whitespace")
        let empty = #expect(throws: RuntimeError.self) { try EnvFile.parse("=x\n", path: ".env", host: [:]) }
        #expect(empty?.message.contains("line 1: no variable name") == true)
    }

    @Test func aBareNamePassesTheHostsValue() throws {
        #expect(try EnvFile.parse("FROM_HOST\nMISSING\nA=1", path: ".env", host: ["FROM_HOST": "yes"]) == ["FROM_HOST=yes", "A=1"])
    }
}
