import DevenvPlan
import DevenvOCI
import Testing
@testable import DevenvAdopt

/// Mapping instructions onto build steps: golden plans and the Docker semantics behind them.
struct PlannerTests {
    static let multiStage = """
        ARG BASE=busybox
        ARG UNUSEDGLOBAL
        FROM ${BASE} AS build
        ARG VERSION=1.0
        ARG BASE
        ENV PATH=/opt/bin:$PATH V=$VERSION
        ENV A=1
        ENV A=2 B=$A
        RUN --mount=type=cache,target=/root/.cache,id=pip,uid=1000 echo $VERSION
        WORKDIR app
        WORKDIR sub/..
        COPY src ./
        COPY --chmod=755 tool.sh /usr/local/bin/
        RUN <<EOF
        echo from heredoc
        EOF
        COPY <<EOF conf.ini
        k=${A}-${VERSION:-x}-${NOPE:-dflt}-${A:+set}
        EOF

        FROM build AS test
        RUN ["make", "test"]

        FROM scratch
        COPY --from=build /app/out /out
        COPY --from=0 /etc/passwd /etc/
        SHELL ["/bin/bash", "-c"]
        CMD echo hi
        ENTRYPOINT ["/entry"]
        EXPOSE 80 8000-8001/udp
        LABEL a.b="x y" "q"=z
        USER ${NOPE:-1000}:1000
        STOPSIGNAL SIGINT
        """

    @Test func multiStageGolden() throws {
        #expect(Dump.plan(try plan(Self.multiStage, arguments: ["VERSION": "2.0", "EXTRA": "x"])) == #"""
            stage build: image "busybox"
              6: ENV PATH="/opt/bin:/usr/bin:/bin" V="2.0"
              7: ENV A="1"
              8: ENV A="2" B="1"
              9: RUN ["/bin/sh","-c","echo $VERSION"] args=VERSION="2.0",BASE="busybox" cache=/root/.cache(id=pip)(uid=1000)
              10: WORKDIR /app
              11: WORKDIR /app
              12: COPY src /app/ <context> patterns=["src"]
              13: COPY --chmod=755 tool.sh /usr/local/bin/ <context> patterns=["tool.sh"]
              14: RUN ["/bin/sh","-c","echo from heredoc\n"] args=VERSION="2.0",BASE="busybox"
              17: COPY <<EOF /app/conf.ini <context> patterns=[] inline EOF="k=2-2.0-dflt-set\n"
            stage #2: scratch
              25: COPY --from=build /app/out /out <stage 0> patterns=["/app/out"]
              26: COPY --from=0 /etc/passwd /etc/ <stage 0> patterns=["/etc/passwd"]
              28: CMD ["/bin/bash","-c","echo hi"]
              29: ENTRYPOINT ["/entry"]
              30: EXPOSE 80/tcp 8000/udp 8001/udp
              31: LABEL a.b="x y" q="z"
              32: USER 1000:1000
              33: STOPSIGNAL SIGINT
            unused: EXTRA
            """#)
    }

    @Test func targetBuildsOnlyWhatItNeeds() throws {
        let test = try plan(Self.multiStage, target: "test")
        #expect(test.stages.map(\.displayName) == ["build", "test"])
        #expect(test.target.base == .stage(0))
        #expect(Dump.step(test.target.steps[0]) == #"RUN ["make","test"]"#)
        #expect(try plan(Self.multiStage, target: "0").stages.count == 1)
    }

    @Test func stagesTheTargetDoesNotNeedMayFail() throws {
        let text = "FROM busybox AS unused\nWORKDIR ${UNSET:?}\nFROM missing-image AS unusedtoo\nFROM busybox\nRUN true\n"
        #expect(try plan(text).stages.count == 1)
        #expect(planError(text, target: "unused") == "Dockerfile:2:9: error: UNSET: is not allowed to be unset")
        #expect(planError("FROM missing-image\n") == "MissingImage(name: \"missing-image\")")
    }

    @Test func entrypointDropsTheBaseCommandUnlessTheStageSetOne() throws {
        let dropped = try plan("FROM busybox\nENTRYPOINT [\"/e\"]\n")
        #expect(Dump.step(dropped.target.steps[0]) == #"ENTRYPOINT ["/e"]; CMD nil"#)
        let kept = try plan("FROM busybox\nCMD [\"c\"]\nENTRYPOINT /e\n")
        #expect(Dump.step(kept.target.steps[1]) == #"ENTRYPOINT ["/bin/sh","-c","/e"]"#)
    }

    @Test func environmentWinsOverArguments() throws {
        let text = "FROM busybox\nARG X=arg\nENV X=env\nARG X=again\nRUN echo\nWORKDIR /$X\n"
        let stage = try plan(text, arguments: ["X": "given"]).target
        #expect(Dump.step(stage.steps[1]) == #"RUN ["/bin/sh","-c","echo"] args=X="given""#)
        #expect(Dump.step(stage.steps[2]) == "WORKDIR /env")
    }

    @Test func globalArgumentsNeedRedeclaring() throws {
        let text = "ARG V=1\nARG IMG=busy\nFROM ${IMG}box\nRUN echo\nARG V\nARG TARGETARCH\nRUN echo\nWORKDIR /$V-$TARGETARCH-$BUILDOS\n"
        let steps = try plan(text).target.steps
        #expect(Dump.step(steps[0]) == #"RUN ["/bin/sh","-c","echo"]"#)
        #expect(Dump.step(steps[1]) == #"RUN ["/bin/sh","-c","echo"] args=V="1",TARGETARCH="amd64""#)
        #expect(Dump.step(steps[2]) == "WORKDIR /1-amd64-")
    }

    @Test func copyDestinations() throws {
        let steps = try plan("FROM busybox\nWORKDIR /w\nCOPY a .\nCOPY a b/\nCOPY a ../up\nCOPY [\"x y\", \"$PATH\"]\nCOPY a /\n").target.steps
        #expect(steps.dropFirst().map { Dump.step($0) } == [
            #"COPY a /w/ <context> patterns=["a"]"#,
            #"COPY a /w/b/ <context> patterns=["a"]"#,
            #"COPY a /up <context> patterns=["a"]"#,
            #"COPY x y /usr/bin:/bin <context> patterns=["x y"]"#,
            #"COPY a / <context> patterns=["a"]"#,
        ])
        let sources = try plan("FROM busybox\nCOPY ./a/../b/./c /x\nCOPY . /y/\n").target.steps
        #expect(sources.map { $0.copy?.patterns.map(\.value) } == [["b/c"], ["."]])
    }

    @Test func plannerErrorsAreLocated() throws {
        let cases: [(String, String)] = [
            ("FROM busybox\nCOPY a b /c\n", "Dockerfile:2:10: error: COPY with several sources needs a destination directory ending in '/'"),
            ("FROM busybox\nCOPY ../x /c\n", "Dockerfile:2:6: error: '../x' is outside the build context"),
            ("FROM busybox\nADD --checksum=sha256:abc https://e.com/x /x\n", "Dockerfile:2:16: error: --checksum=sha256:abc: expected a digest such as sha256:<64 hex digits>"),
            ("FROM busybox\nADD --checksum=sha256:\(String(repeating: "a", count: 64)) local /x\n", "Dockerfile:2:16: error: --checksum can only be used with http and https sources (one checksum for each ADD)"),
            ("FROM busybox\nADD https://e.com/a https://e.com/b /x\n", "Dockerfile:2:37: error: ADD with several sources needs a destination directory ending in '/'"),
            ("FROM busybox\nCOPY --chmod=u+x a /a\n", "Dockerfile:2:14: error: --chmod=u+x: expected an octal mode such as 755 (symbolic modes are not supported)"),
            ("FROM busybox\nRUN --mount=type=bind,target=/src make\n", "Dockerfile:2:13: error: RUN --mount: type=bind is not supported (only cache, secret and ssh); a build step sees only the image, so COPY what it needs first"),
            ("FROM busybox\nRUN --mount=type=cache make\n", "Dockerfile:2:13: error: RUN --mount: a cache mount needs target=PATH"),
            ("FROM busybox\nRUN --mount=type=cache,target=/x,from=y make\n", "Dockerfile:2:13: error: RUN --mount: 'from' is not supported for a cache mount (devenv supports target, id, sharing, uid, gid and mode)"),
            ("FROM busybox\nRUN --mount=type=cache,target=/x,mode=17777 make\n", "Dockerfile:2:13: error: RUN --mount: mode=17777 is not an octal mode (at most 07777)"),
            ("FROM busybox\nRUN --mount=type=cache,target=/x,gid=staff make\n", "Dockerfile:2:13: error: RUN --mount: gid=staff is not a number"),
            ("FROM busybox\nRUN --network=bridge make\n", "Dockerfile:2:15: error: RUN --network=bridge: expected default, host or none"),
            ("FROM busybox\nRUN --security=insecure make\n", "Dockerfile:2:16: error: RUN --security=insecure is not supported: build steps always run confined"),
            ("FROM --platform=linux/arm64 busybox\n", "Dockerfile:1:17: error: FROM --platform=linux/arm64: devenv builds only for this machine's platform (linux/amd64)"),
            ("FROM busybox AS first\nCOPY --from=later /x /y\nFROM busybox AS later\nCOPY --from=first /y /z\n", "Dockerfile:2:13: error: --from=later: a stage can copy only from stages before it"),
            ("FROM busybox\nCOPY --from=7 /x /y\n", "Dockerfile:2:13: error: --from=7: there is no stage 7"),
            ("FROM busybox\nCOPY --parents a /b/\n", "Dockerfile:2:6: error: COPY --parents is not supported"),
            ("FROM busybox\nWORKDIR ${X:?needs X}\n", "Dockerfile:2:9: error: X: needs X"),
            ("FROM busybox\nEXPOSE 80/http\n", "Dockerfile:2:8: error: EXPOSE 80/http: expected PORT, PORT/PROTOCOL or FIRST-LAST (tcp, udp or sctp)"),
            ("FROM busybox\nRUN <<EOF\n#!/usr/bin/env python3\nEOF\n", "Dockerfile:2:5: error: RUN: a heredoc with a #! line is not supported; run the interpreter on it instead (RUN python3 <<EOF)"),
            ("FROM ${NOPE}\n", "Dockerfile:1:6: error: FROM: the image name is empty after expanding '${NOPE}'"),
        ]
        for (text, message) in cases {
            #expect(planError(text) == message, "\(text)")
        }
        #expect(planError("FROM busybox\n", target: "nope") == "Dockerfile:1:1: error: target stage 'nope' is not in the Dockerfile (it has no named stages)")
    }

    @Test func severalErrorsInOneStageAreReportedTogether() throws {
        let message = planError("FROM busybox\nWORKDIR ${A:?}\nUSER ${B:?}\n")
        #expect(message?.split(separator: "\n").count == 2)
    }

    @Test func copyFromAnImage() throws {
        let step = try plan("FROM busybox\nCOPY --from=busybox:1.36 /bin/busybox /bin/\n").target.steps[0]
        #expect(step.copy?.origin == .image(Word("busybox:1.36", at: .init(line: 2, column: 13, offset: 25), width: 12)))
    }

    /// The step (what the cache key hashes) does not depend on spacing or comments.
    @Test func equalInstructionsLowerToEqualSteps() throws {
        let first = try plan("FROM busybox\nRUN   make   \n").target.steps[0]
        let second = try plan("FROM busybox\n# comment\nRUN make\n").target.steps[0]
        #expect(first.step == second.step)
        #expect(first.definition == "RUN make" && second.definition == "RUN make")
    }
}
