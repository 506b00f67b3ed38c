import Testing
@testable import DevenvAdopt

/// Parsing golden results: every instruction with its location and its arguments as written.
struct ParserTests {
    @Test func syntaxTour() throws {
        let text = """
        # syntax=docker/dockerfile:1
        ARG BASE=busybox
        FROM ${BASE} AS build
        # a comment
        RUN echo one \\
            # comment inside a continuation

            two \\
            three
          run   ["echo", "json"]
        RUN [not json
        ENV A=1 B="two words" C='$lit' D=\\$esc
        ENV LEGACY value with spaces
        LABEL "com.example.vendor"="ACME Inc" version=1.0
        RUN --mount=type=cache,target=/root/.cache --network=none make
        COPY --chown=1:2 --chmod=644 a b /dst/
        COPY ["a b", "/c"]
        CMD echo hi
        ENTRYPOINT ["/bin/sh", "-c"]
        EXPOSE 80 53/udp
        VOLUME /data
        VOLUME ["/a", "/b"]
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        WORKDIR /my app
        USER 1000:1000
        STOPSIGNAL SIGTERM
        from --platform=linux/amd64 scratch
        """
        let file = try parse(text)
        #expect(file.directives == ["syntax": "docker/dockerfile:1"])
        #expect(Dump.dockerfile(file) == #"""
            2:1 ARG "BASE"="busybox"
            3:1 FROM "${BASE}" AS "build"
            5:1 RUN shell "echo one     two     three"
            10:3 RUN exec ["echo","json"]
            11:1 RUN shell "[not json"
            12:1 ENV "A"="1"@12:7 "B"="\"two words\""@12:11 "C"="\'$lit\'"@12:25 "D"="\\$esc"@12:34
            13:1 ENV "LEGACY"="value with spaces"@13:12
            14:1 LABEL "\"com.example.vendor\""="\"ACME Inc\""@14:28 "version"="1.0"@14:47
            15:1 RUN shell "make" mount="type=cache,target=/root/.cache" network="none"
            16:1 COPY sources=["a","b"] dest="/dst/" chown="1:2" chmod="644"
            17:1 COPY sources=["a b"] dest="/c" json
            18:1 CMD shell "echo hi"
            19:1 ENTRYPOINT exec ["/bin/sh","-c"]
            20:1 EXPOSE ["80","53/udp"]
            21:1 VOLUME ["/data"]
            22:1 VOLUME ["/a","/b"] json
            23:1 SHELL ["/bin/bash","-o","pipefail","-c"]
            24:1 WORKDIR "/my app"
            25:1 USER "1000:1000"
            26:1 STOPSIGNAL "SIGTERM"
            27:1 FROM "scratch" platform="linux/amd64"
            """#)
    }

    @Test func heredocs() throws {
        let text = "FROM busybox\nRUN <<EOF\necho from heredoc\nEOF\nRUN <<-'EOT' cat > /x && cat <<\"B\"\n\t\tindented $HOME\n\tEOT\nb line\nB\n"
            + "COPY <<EOF /etc/conf\nk=$A\nEOF\nRUN 3<<X cat <&3\nx\nX\nRUN echo \"<<NOT\" <<'a b' x\nspaced\na b\nRUN echo done\n"
        #expect(Dump.dockerfile(try parse(text)) == #"""
            1:1 FROM "busybox"
            2:1 RUN shell "<<EOF" <<EOF="echo from heredoc\n"
            5:1 RUN shell "<<-\'EOT\' cat > /x && cat <<\"B\"" <<EOT literal chomp="indented $HOME\n" <<B literal="b line\n"
            10:1 COPY sources=["<<EOF"] dest="/etc/conf" <<EOF="k=$A\n"
            13:1 RUN shell "3<<X cat <&3" <<X="x\n"
            16:1 RUN shell "echo \"<<NOT\" <<\'a b\' x" <<a b literal="spaced\n"
            19:1 RUN shell "echo done"
            """#)
    }

    @Test func escapeDirectiveAndLineEndings() throws {
        let text = "# escape=`\r\n\r\nFROM busybox\r\nRUN echo a `\r\n  b\r\nCOPY C:\\src /dst\r\n"
        let file = try parse(text)
        #expect(file.escape == "`")
        #expect(Dump.dockerfile(file) == #"""
            3:1 FROM "busybox"
            4:1 RUN shell "echo a   b"
            6:1 COPY sources=["C:\\src"] dest="/dst"
            """#)
    }

    @Test func directivesStopAtTheFirstOtherLine() throws {
        let file = try parse("# syntax=x\n\n# escape=`\nFROM busybox\nRUN a \\\n b\n")
        #expect(file.directives == ["syntax": "x"])
        #expect(file.escape == "\\")
        #expect(Dump.dockerfile(file).hasSuffix(#"RUN shell "a  b""#))
    }

    @Test func byteOrderMarkAndMissingFinalNewline() throws {
        let file = try Dockerfile.parse([0xEF, 0xBB, 0xBF] + Array("FROM busybox\nCMD [\"sh\"]".utf8), path: "Dockerfile")
        #expect(Dump.dockerfile(file) == "1:1 FROM \"busybox\"\n2:1 CMD exec [\"sh\"]")
    }

    @Test func stageLookup() throws {
        let file = try parse("FROM busybox AS Build\nFROM build\nFROM scratch AS final\n")
        #expect(file.stage(named: "BUILD")?.index == 0)
        #expect(file.stage(named: "1")?.index == 1)
        #expect(file.stage(named: "final")?.displayName == "final")
        #expect(file.stage(named: "nope") == nil)
    }

    @Test func jsonEscapes() throws {
        let file = try parse(#"FROM busybox"# + "\n" + #"CMD ["a\"b", "\u00e9\ud83d\ude00", "tab\there", "\/"]"#)
        #expect(Dump.dockerfile(file).hasSuffix(#"CMD exec ["a\"b","é😀","tab\there","/"]"#))
    }
}
