import DevenvAdopt
import DevenvPlan
import Testing

/// `RUN --mount=type=secret|ssh` as BuildKit reads it: only ids and places enter the step.
@Suite struct SecretMountTests {
    func secrets(_ line: String) throws -> [SecretMount] {
        let steps = try plan("FROM busybox\nWORKDIR /w\n\(line)\n").target.steps
        guard case let .run(run) = steps.last?.step else { return [] }
        return run.secrets ?? []
    }

    @Test func defaultsAsBuildKitHasThem() throws {
        #expect(try secrets("RUN --mount=type=secret,id=npmrc cat /run/secrets/npmrc") == [SecretMount(kind: .secret, id: "npmrc", target: "/run/secrets/npmrc")])
        // The id defaults to the target's name; a relative target is under the working directory.
        #expect(try secrets("RUN --mount=type=secret,target=keys/aws,required=true x") == [SecretMount(kind: .secret, id: "aws", target: "/w/keys/aws", required: true)])
        // env= alone: only the variable.
        #expect(try secrets("RUN --mount=type=secret,id=tok,env=TOKEN x") == [SecretMount(kind: .secret, id: "tok", target: nil, environmentName: "TOKEN")])
        #expect(try secrets("RUN --mount=type=secret,id=tok,env=TOKEN,dst=/t x") == [SecretMount(kind: .secret, id: "tok", target: "/t", environmentName: "TOKEN")])
        #expect(try secrets("RUN --mount=type=ssh --mount=type=ssh,id=work,required x") == [
            SecretMount(kind: .ssh, id: "default", target: "/run/buildkit/ssh_agent.0"),
            SecretMount(kind: .ssh, id: "work", target: "/run/buildkit/ssh_agent.1", required: true),
        ])
        // Cache mounts and secrets together.
        let steps = try plan("FROM busybox\nRUN --mount=type=cache,target=/c --mount=type=secret,id=s x\n").target.steps
        guard case let .run(run) = steps.last?.step else { Issue.record("not a run step"); return }
        #expect(run.cacheMounts.map(\.target) == ["/c"] && run.secrets?.map(\.id) == ["s"])
    }

    @Test func ownerAndModeAsBuildKitSpellsThem() throws {
        #expect(try secrets("RUN --mount=type=secret,id=s,uid=1000,gid=1001,mode=0440 x") == [
            SecretMount(kind: .secret, id: "s", target: "/run/secrets/s", uid: 1000, gid: 1001, mode: 0o440),
        ])
        #expect(try secrets("RUN --mount=type=secret,id=s,mode=600 x").first?.mode == 0o600)
    }

    @Test func aStepWithoutSecretsEncodesAsBefore() throws {
        let steps = try plan("FROM busybox\nRUN make\n").target.steps
        guard case let .run(run) = steps.last?.step else { Issue.record("not a run step"); return }
        #expect(run.secrets == nil)
    }

    @Test func badSecretMountsAreLocated() {
        let cases: [(String, String)] = [
            ("RUN --mount=type=secret x", "Dockerfile:2:13: error: RUN --mount: a secret mount needs id=ID (or a target=PATH to name it)"),
            ("RUN --mount=type=secret,id=a,required=maybe x", "Dockerfile:2:13: error: RUN --mount: required=maybe: expected true or false"),
            ("RUN --mount=type=secret,id=a,from=b x", "Dockerfile:2:13: error: RUN --mount: 'from' is not supported for a secret mount (devenv supports id, target, required, env, uid, gid and mode)"),
            ("RUN --mount=type=secret,id=a,mode=0999 x", "Dockerfile:2:13: error: RUN --mount: mode=0999 is not an octal file mode (at most 0777)"),
            ("RUN --mount=type=secret,id=a,uid=me x", "Dockerfile:2:13: error: RUN --mount: uid=me is not a number"),
            ("RUN --mount=type=ssh,mode=0666 x", "Dockerfile:2:13: error: RUN --mount: 'mode' is not supported for an ssh mount: devenv binds the host agent's own socket, which it does not hand to another owner (docs/daily-use.md)"),
            ("RUN --mount=type=secret,id=.. x", "Dockerfile:2:13: error: RUN --mount: a secret mount needs id=ID (or a target=PATH to name it)"),
            ("RUN --mount=type=ssh,env=X x", "Dockerfile:2:13: error: RUN --mount: 'env' is not supported for an ssh mount (devenv supports id, target, required)"),
            ("RUN --mount=type=secret,id=a/b x", "Dockerfile:2:13: error: RUN --mount: a secret mount needs id=ID (or a target=PATH to name it)"),
        ]
        for (line, message) in cases {
            #expect(planError("FROM busybox\n\(line)\n") == message, "\(line)")
        }
    }
}
