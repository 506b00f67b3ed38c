import Testing
@testable import DevenvAdopt

/// Exact syntax error messages: the wording is part of the user interface.
struct ErrorGoldenTests {
    @Test func allSyntaxErrorsAtOnce() throws {
        let text = """
        ENV BEFORE=from
        FROM busybox AS 1bad
        RUNN make
        COPY onlyone
        RUN --mount=type=cache,target=/x --frobnicate make
        FROM a b
        CMD
        SHELL /bin/bash -c
        COPY --chown=1 --chown=2 a b
        ENV NOVALUE
        LABEL k=v other
        FROM busybox AS dup
        FROM busybox AS DUP
        RUN <<EOF
        never ends
        """
        let error = try #require(parseError(text))
        #expect(error.description == """
            Dockerfile:1:1: error: ENV before the first FROM: only ARG may come before FROM
            Dockerfile:2:17: error: invalid stage name '1bad': it must start with a letter and contain only letters, digits, '-', '_' and '.'
            Dockerfile:3:1: error: unknown instruction 'RUNN' (did you mean 'RUN'?)
            Dockerfile:4:1: error: COPY requires at least two arguments: one or more sources and a destination
            Dockerfile:5:34: error: unknown flag '--frobnicate' for RUN (it takes --mount, --network, --security)
            Dockerfile:6:1: error: FROM requires either one argument (FROM image) or three (FROM image AS name)
            Dockerfile:7:1: error: CMD requires a command
            Dockerfile:8:1: error: SHELL requires its arguments in JSON form, e.g. SHELL ["/bin/bash", "-c"]
            Dockerfile:9:16: error: duplicate flag '--chown'
            Dockerfile:10:1: error: ENV NOVALUE has no value: write ENV NOVALUE=VALUE
            Dockerfile:11:11: error: LABEL: 'other' is not of the form NAME=VALUE
            Dockerfile:13:17: error: duplicate stage name 'dup' (also on line 12)
            Dockerfile:14:5: error: unterminated heredoc: no line 'EOF' ends it
            """)
    }

    @Test func renderedWithSourceLineAndCaret() throws {
        let error = try #require(parseError("FROM busybox\n\tRUN --netwrk=none make\n"))
        #expect(error.render() == """
            Dockerfile:2:6: error: unknown flag '--netwrk' for RUN (it takes --mount, --network, --security)
             2 |  RUN --netwrk=none make
               |      ^~~~~~~~~~~~~
            """)
    }

    @Test func errorsInsideContinuationsPointAtTheRightLine() throws {
        let error = try #require(parseError("FROM busybox\nCOPY \\\n  --chmod=644 \\\n  --bogus=1 a b\n"))
        #expect(error.description == "Dockerfile:4:3: error: unknown flag '--bogus' for COPY (it takes --from, --chown, --chmod, --link, --parents, --exclude)")
    }

    @Test func fileLevelErrors() throws {
        #expect(parseError("")?.description == "Dockerfile:1:1: error: the Dockerfile has no FROM instruction")
        #expect(parseError("# only a comment\nARG X\n")?.description == "Dockerfile:2:6: error: the Dockerfile has no FROM instruction")
        #expect(parseError("# escape=x\nFROM busybox\n")?.description == "Dockerfile:1:3: error: invalid escape parser directive 'x': it must be '\\' or '`'")
        #expect(parseError("# escape=`\n# ESCAPE=\\\nFROM busybox\n")?.description == "Dockerfile:2:3: error: only one 'escape' parser directive can be used")
        let invalid = try? Dockerfile.parse(Array("FROM busybox\nRUN echo ".utf8) + [0xC3, 0x28], path: "Dockerfile")
        #expect(invalid == nil)
        do {
            _ = try Dockerfile.parse(Array("FROM busybox\nRUN echo ".utf8) + [0xC3, 0x28], path: "dev.Dockerfile")
        } catch {
            #expect("\(error)" == "dev.Dockerfile:2:10: error: invalid UTF-8 (byte 0xc3)")
        }
        let big = [UInt8](repeating: UInt8(ascii: "#"), count: Dockerfile.maxFileSize + 1)
        #expect(throws: (any Error).self) { try Dockerfile.parse(big, path: "Dockerfile") }
    }

    @Test func hostileTextIsEscapedInMessages() throws {
        let error = try #require(parseError("FROM busybox\nRU\u{1b}[31mN x\n"))
        #expect(error.description == "Dockerfile:2:1: error: unknown instruction 'RU\\x1b[31mN'")
    }
}
