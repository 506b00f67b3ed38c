import Testing
@testable import DevenvManifest

/// `[[step]] secrets`: what a run step reads while it runs, with located errors.
@Suite struct ManifestSecretsTests {
    static let base = "[base]\nimage = \"debian\"\n[[step]]\nrun = \"npm ci\"\n"

    @Test func secretsOfARunStep() throws {
        let manifest = try Manifest.parse(Array((Self.base + #"secrets = ["id=npmrc,src=~/.npmrc", "id=tok,src=/etc/tok,env=TOKEN,target=/t"]"#).utf8), path: ".devenv/devenv.toml")
        guard case let .run(run) = manifest.steps[0].action else { Issue.record("not a run step"); return }
        #expect(run.secrets.map(\.id) == ["npmrc", "tok"])
        #expect(run.secrets[0].source == .home(".npmrc") && run.secrets[0].target == nil && run.secrets[0].environmentName == nil)
        #expect(run.secrets[1].source == .absolute("/etc/tok") && run.secrets[1].target == "/t" && run.secrets[1].environmentName == "TOKEN")
        #expect(run.secrets[0].location.line == 5)
        let owned = try Manifest.parse(Array((Self.base + #"secrets = ["id=k,src=/k,uid=1000,gid=1001,mode=0440"]"#).utf8), path: ".devenv/devenv.toml")
        guard case let .run(step) = owned.steps.last?.action else { Issue.record("not a run step"); return }
        #expect(step.secrets.first.map { [$0.uid, $0.gid, $0.mode] } == [1000, 1001, 0o440])
    }

    @Test(arguments: [
        (#"secrets = ["src=/x"]"#, "5:12: error: step[1].secrets[1]: a secret needs id=ID"),
        (#"secrets = ["id=a"]"#, "5:12: error: step[1].secrets[1]: a secret needs src=FILE (an absolute path or ~/…): the file it is read from"),
        (#"secrets = ["id=a,src=rel/x"]"#, "5:12: error: step[1].secrets[1]: src: must be an absolute path or start with '~/', found 'rel/x'"),
        (#"secrets = ["id=a,scr=/x"]"#, "5:12: error: step[1].secrets[1]: unknown secret field 'scr'; did you mean 'src'?"),
        (#"secrets = ["id=../a,src=/x"]"#, "5:12: error: step[1].secrets[1]: id: invalid secret id '../a': use at most 64 letters, digits and '._-'"),
        (#"secrets = ["id=a,src=/x,target=/"]"#, "5:12: error: step[1].secrets[1]: target: cannot be the container's root directory"),
        (#"secrets = ["id=a,src=/x", "id=a,src=/y"]"#, "5:11: error: step[1].secrets: the secret id 'a' is given twice"),
        (#"secrets = ["id=a,src=/x,mode=0888"]"#, "5:12: error: step[1].secrets[1]: mode: '0888' is not an octal file mode (at most 0777)"),
        (#"secrets = ["id=a,src=/x,uid=-1"]"#, "5:12: error: step[1].secrets[1]: uid: '-1' is not a number"),
    ])
    func badSecretsAreLocated(_ line: String, _ expected: String) throws {
        do {
            _ = try Manifest.parse(Array((Self.base + line).utf8), path: ".devenv/devenv.toml")
            Issue.record("accepted \(line)")
        } catch let error as ManifestError {
            #expect(error.description == ".devenv/devenv.toml:" + expected)
        }
    }

    @Test func secretsBelongToRunSteps() throws {
        let text = "[base]\nimage = \"debian\"\n[[step]]\ncopy = [\"a\"]\nsecrets = [\"id=a,src=/x\"]\n"
        #expect(throws: ManifestError.self) { try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml") }
    }
}
