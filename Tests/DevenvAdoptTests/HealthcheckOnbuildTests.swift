import Testing
import DevenvOCI
import DevenvPlan
@testable import DevenvAdopt

/// HEALTHCHECK and ONBUILD as BuildKit reads them and records them in the image config.
struct HealthcheckOnbuildTests {
    static func dump(_ text: String) throws -> String {
        Dump.dockerfile(try parse("FROM busybox\n" + text)).split(separator: "\n").dropFirst().joined(separator: "\n")
    }

    @Test(arguments: [
        ("HEALTHCHECK NONE", #"["NONE"]"#),
        ("healthcheck none", #"["NONE"]"#),
        ("HEALTHCHECK CMD curl -f http://localhost/ || exit 1", #"["CMD-SHELL","curl -f http://localhost/ || exit 1"]"#),
        ("HEALTHCHECK CMD [\"/bin/check\", \"--quick\"]", #"["CMD","/bin/check","--quick"]"#),
        ("HEALTHCHECK --interval=5s --timeout=1m30s --start-period=1.5s --start-interval=250ms --retries=3 CMD true",
         #"["CMD-SHELL","true"] interval=5000000000 timeout=90000000000 start-period=1500000000 start-interval=250000000 retries=3"#),
        ("HEALTHCHECK --interval=0 --retries=0 CMD $NOT_EXPANDED", #"["CMD-SHELL","$NOT_EXPANDED"]"#),
    ])
    func healthchecks(_ line: String, _ expected: String) throws {
        #expect(try Self.dump(line + "\n") == "2:1 HEALTHCHECK " + expected)
    }

    @Test(arguments: [
        ("HEALTHCHECK", "Dockerfile:2:1: error: HEALTHCHECK requires at least one argument"),
        ("HEALTHCHECK NONE now", "Dockerfile:2:1: error: HEALTHCHECK NONE takes no arguments"),
        ("HEALTHCHECK CMD", "Dockerfile:2:1: error: Missing command after HEALTHCHECK CMD"),
        ("HEALTHCHECK CMD []", "Dockerfile:2:1: error: Missing command after HEALTHCHECK CMD"),
        ("HEALTHCHECK RUN true", "Dockerfile:2:1: error: unknown type 'RUN' in HEALTHCHECK (try CMD)"),
        ("HEALTHCHECK CMD [\"a\", 1]", "Dockerfile:2:1: error: when using JSON array syntax"),
        ("HEALTHCHECK --interval=5 CMD true", "Dockerfile:2:24: error: HEALTHCHECK --interval: missing unit in duration '5'"),
        ("HEALTHCHECK --timeout=1x CMD true", "Dockerfile:2:23: error: HEALTHCHECK --timeout: unknown unit 'x' in duration '1x'"),
        ("HEALTHCHECK --start-period=10us CMD true", "Dockerfile:2:28: error: HEALTHCHECK --start-period cannot be less than 1ms"),
        ("HEALTHCHECK --interval=-5s CMD true", "Dockerfile:2:24: error: HEALTHCHECK --interval cannot be less than 1ms"),
        ("HEALTHCHECK --retries=-1 CMD true", "Dockerfile:2:23: error: HEALTHCHECK --retries must be a whole number"),
        ("HEALTHCHECK --bogus=1 CMD true", "Dockerfile:2:13: error: unknown flag '--bogus' for HEALTHCHECK"),
        ("ONBUILD", "Dockerfile:2:1: error: ONBUILD requires an instruction"),
        ("ONBUILD ONBUILD RUN x", "Dockerfile:2:1: error: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("ONBUILD FROM x", "Dockerfile:2:1: error: FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD MAINTAINER me", "Dockerfile:2:1: error: MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("ONBUILD RUNN x", "Dockerfile:2:9: error: unknown instruction 'RUNN'"),
        ("ONBUILD COPY --bogus a b", "Dockerfile:2:14: error: unknown flag '--bogus' for COPY"),
    ])
    func errors(_ line: String, _ message: String) throws {
        let error = try #require(parseError("FROM busybox\n\(line)\n"), "\(line)")
        #expect("\(error)".contains(message), "\(error)")
    }

    @Test func onbuildKeepsTheTriggerAsWritten() throws {
        #expect(try Self.dump("ONBUILD COPY --chown=1:1 . /app\nonbuild run make \\\n  all\n") == #"""
            2:1 ONBUILD "COPY --chown=1:1 . /app"
            3:1 ONBUILD "run make   all"
            """#)
        #expect(try Self.dump("ONBUILD RUN <<EOF\necho hi\nEOF\n") == #"2:1 ONBUILD "RUN <<EOF\necho hi\nEOF""#)
    }

    @Test func theImageConfigRecordsThem() throws {
        let planned = try plan("FROM busybox\nHEALTHCHECK --interval=5s CMD [\"/bin/true\"]\nONBUILD RUN make\nONBUILD COPY . /src\nHEALTHCHECK NONE\n")
        var config = ImageConfig.RunConfig()
        for step in planned.stages[0].steps {
            if case let .config(changes) = step.step { changes.forEach { $0.apply(to: &config) } }
        }
        #expect(config.healthcheck == ImageConfig.Healthcheck(test: ["NONE"]))
        #expect(config.onBuild == ["RUN make", "COPY . /src"])
        #expect(Dump.plan(planned).contains("2: HEALTHCHECK CMD [\"/bin/true\"]\n  3: ONBUILD RUN make"))
    }

    /// A base image's triggers run at the FROM that uses it, and are not passed on.
    @Test func baseTriggersRunFirstAndAreConsumed() throws {
        var base = ImageConfig.RunConfig(env: ["PATH=/bin"])
        base.onBuild = ["ENV FROM_TRIGGER=1", "RUN echo $FROM_TRIGGER > /t"]
        base.healthcheck = ImageConfig.Healthcheck(test: ["CMD-SHELL", "true"])
        let planned = try plan("FROM base\nRUN echo own\n", images: ["base": base])
        #expect(Dump.plan(planned) == #"""
            stage #0: image "base"
              1: ONBUILD (cleared)
              1: ENV FROM_TRIGGER="1"
              1: RUN ["/bin/sh","-c","echo $FROM_TRIGGER > /t"]
              2: RUN ["/bin/sh","-c","echo own"]
            """#)
        var config = base
        for step in planned.stages[0].steps {
            if case let .config(changes) = step.step { changes.forEach { $0.apply(to: &config) } }
        }
        #expect(config.onBuild == nil)
        #expect(config.healthcheck == base.healthcheck)

        base.onBuild = ["WORKDIR ${BAD"]
        do {
            _ = try plan("FROM base\n", images: ["base": base])
            Issue.record("a bad trigger planned")
        } catch {
            #expect("\(error)".contains("Dockerfile:1:6: error: ONBUILD trigger 'WORKDIR ${BAD' of the base image: syntax error: missing '}'"), "\(error)")
        }
    }

    /// A stage built on an earlier stage runs that stage's own ONBUILD triggers (BuildKit's
    /// rule; what the earlier stage's base declared ran there), and clears the list it inherits.
    @Test func anEarlierStagesTriggersRunInTheStageBuiltOnIt() throws {
        let planned = try plan("FROM busybox AS tools\nONBUILD ENV FROM_STAGE=1\nONBUILD RUN touch /stage\nRUN own\n"
                               + "FROM tools AS app\nRUN echo app\nFROM app\nRUN echo last\n")
        #expect(Dump.plan(planned) == #"""
            stage tools: image "busybox"
              2: ONBUILD ENV FROM_STAGE=1
              3: ONBUILD RUN touch /stage
              4: RUN ["/bin/sh","-c","own"]
            stage app: stage 0
              5: ONBUILD (cleared)
              5: ENV FROM_STAGE="1"
              5: RUN ["/bin/sh","-c","touch /stage"]
              6: RUN ["/bin/sh","-c","echo app"]
            stage #2: stage 1
              8: RUN ["/bin/sh","-c","echo last"]
            """#)
        #expect(planned.stages[0].config.onBuild == ["ENV FROM_STAGE=1", "RUN touch /stage"] && planned.stages[1].config.onBuild.isEmpty)
        #expect(planned.stages[1].config.env.contains("FROM_STAGE=1"))
    }

    /// Triggers an image config holds that no Dockerfile could have declared are refused at
    /// the FROM, as Docker refuses them when it runs them.
    @Test(arguments: [
        ("ONBUILD RUN x", "ONBUILD trigger 'ONBUILD RUN x' of the base image: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("from other", "ONBUILD trigger 'from other' of the base image: FROM isn't allowed as an ONBUILD trigger"),
        ("MAINTAINER me", "ONBUILD trigger 'MAINTAINER me' of the base image: MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("RUN a\nRUN b", "ONBUILD trigger 'RUN a\\nRUN b' of the base image: a trigger must be exactly one instruction"),
        ("", "ONBUILD trigger '' of the base image: a trigger must be exactly one instruction"),
        // The parsed instruction decides, not the first word of the text.
        ("# c\nONBUILD RUN x", "ONBUILD trigger '# c\\nONBUILD RUN x' of the base image: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("\\\nFROM x", "ONBUILD trigger '\\\\\\nFROM x' of the base image: FROM isn't allowed as an ONBUILD trigger"),
    ])
    func handWrittenTriggersAreRefused(_ trigger: String, _ message: String) {
        var base = ImageConfig.RunConfig(env: ["PATH=/bin"])
        base.onBuild = [trigger]
        do {
            _ = try plan("FROM base\n", images: ["base": base])
            Issue.record("planned a base with the trigger \(trigger)")
        } catch {
            #expect("\(error)".contains("Dockerfile:1:6: error: " + message), "\(error)")
        }
    }

    @Test(arguments: [
        ("0", 0), ("1ns", 1), ("1.5h", 5_400_000_000_000), ("1m30s", 90_000_000_000), ("+2ms", 2_000_000), ("-1s", -1_000_000_000),
        ("1µs", 1_000), ("1us", 1_000), (".5s", 500_000_000), ("1.s", 1_000_000_000),
    ] as [(String, Int64)])
    func goDurations(_ text: String, _ nanoseconds: Int64) throws {
        #expect(try GoDuration.parse(text).get() == nanoseconds)
    }

    @Test(arguments: ["", "s", "1", "1x", ".s", "1..2s", "-", "99999999999h", "1s2"])
    func invalidGoDurations(_ text: String) {
        #expect((try? GoDuration.parse(text).get()) == nil, "\(text)")
    }

    /// ADD of http(s) URLs plans remote files, named as BuildKit names them.
    @Test func addURLsPlanRemoteFiles() throws {
        let checksum = "sha256:" + String(repeating: "ab", count: 32)
        let planned = try plan("FROM busybox\nADD https://e.com/dl/tool.tgz?x=1 http://e.com/ HTTPS://e.com/a%20b /opt/\n"
                               + "ADD --checksum=\(checksum) https://e.com/f /f\n")
        let first = try #require(planned.target.steps[0].copy)
        #expect(first.remote.map(\.name) == ["tool.tgz", "__unnamed__", "a b"])
        #expect(first.patterns.isEmpty && first.remote.allSatisfy { $0.checksum == nil })
        #expect(try planned.target.steps[1].copy?.remote.first?.checksum == Digest(parsing: checksum))
    }

    /// ADD of git URLs plans git sources, with BuildKit's `#ref:subdir` fragment.
    @Test func addGitURLsPlanGitSources() throws {
        let planned = try plan("FROM busybox\nADD git@github.com:o/r.git https://h/o/r.git#v1.2:sub/../dir git://h/r#main /src/\n"
                               + "ADD --keep-git-dir https://h/r.git /kept/\n")
        let first = try #require(planned.target.steps[0].copy)
        #expect(first.git.map(\.url) == ["git@github.com:o/r.git", "https://h/o/r.git", "git://h/r"])
        #expect(first.git.map(\.ref) == [nil, "v1.2", "main"])
        #expect(first.git.map(\.subdirectory) == [nil, "dir", nil])
        #expect(first.git.allSatisfy { !$0.keepGitDirectory } && first.remote.isEmpty && first.patterns.isEmpty)
        #expect(planned.target.steps[1].copy?.git.first?.keepGitDirectory == true)
        #expect(planError("FROM busybox\nADD --keep-git-dir https://h/file /x\n") == "Dockerfile:2:5: error: --keep-git-dir can only be used with git sources")
        #expect(planError("FROM busybox\nADD https://h/r.git#--upload-pack=x /x/\n")?.contains("is not a branch, tag or commit") == true)
        #expect(planError("FROM busybox\nADD ftp://h/f /x\n") == "Dockerfile:2:5: error: ADD ftp://h/f: only http, https and git sources are supported")
    }

    /// BuildKit's query form of a git source: `?ref=`, `tag=`, `branch=`, `subdir=`, `keep-git-dir=`.
    @Test func addGitURLsReadTheQueryForm() throws {
        let planned = try plan("FROM busybox\nADD https://h/o/r.git?ref=v2&subdir=a/../docs https://h/o/s.git?tag=v1.0 https://h/o/t.git?branch=dev%2Fx /src/\n"
                               + "ADD https://h/r.git?keep-git-dir=true /kept/\n")
        let first = try #require(planned.target.steps[0].copy)
        #expect(first.git.map(\.url) == ["https://h/o/r.git", "https://h/o/s.git", "https://h/o/t.git"])
        #expect(first.git.map(\.ref) == ["v2", "v1.0", "dev/x"])
        #expect(first.git.map(\.subdirectory) == ["docs", nil, nil])
        #expect(planned.target.steps[1].copy?.git.first?.keepGitDirectory == true)
        #expect(planError("FROM busybox\nADD https://h/r.git?ref=a#b /x/\n")?.contains("give the ref either after '#' or as '?ref=', not both") == true)
        #expect(planError("FROM busybox\nADD https://h/r.git?ref=a&tag=b /x/\n")?.contains("the ref is given twice") == true)
        #expect(planError("FROM busybox\nADD https://h/r.git?depth=1 /x/\n")?.contains("unknown query parameter 'depth'") == true)
        #expect(planError("FROM busybox\nADD https://h/r.git?ref=--upload-pack=x /x/\n")?.contains("is not a branch, tag or commit") == true)
    }
}
