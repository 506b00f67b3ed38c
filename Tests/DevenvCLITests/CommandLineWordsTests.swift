import ArgumentParser
@testable import DevenvCLI
import DevenvManifest
import DevenvPlan
import Testing

/// What devenv reads from a command line before ArgumentParser: pure, no store, no process.
@Suite struct CommandLineWordsTests {
    @Test func leadingGlobalOptionsMoveAfterTheSubcommandPath() throws {
        #expect(try CommandLineWords.normalized(["--store", "/s", "--json", "image", "ls"], root: Devenv.self) == ["image", "ls", "--store", "/s", "--json"])
        #expect(try CommandLineWords.normalized(["--store=/s", "--debug", "run", "test", "-x"], root: Devenv.self) == ["run", "--store=/s", "--debug", "test", "-x"])
        // Already after the subcommand, or none at all: unchanged.
        #expect(try CommandLineWords.normalized(["shell", "--store", "/s"], root: Devenv.self) == ["shell", "--store", "/s"])
        #expect(try CommandLineWords.normalized(["--help"], root: Devenv.self) == ["--help"])
        #expect(try CommandLineWords.normalized([], root: Devenv.self) == [])
    }

    @Test func aMistypedSubcommandGetsTheNearestName() {
        #expect(throws: ValidationError.self) { try CommandLineWords.normalized(["shel"], root: Devenv.self) }
        do {
            _ = try CommandLineWords.normalized(["--json", "image", "lss"], root: Devenv.self)
            Issue.record("image lss was accepted")
        } catch {
            #expect("\(error)" == "Unknown subcommand 'lss'. Did you mean 'ls'?")
        }
        do {
            _ = try CommandLineWords.normalized(["frobnicate"], root: Devenv.self)
        } catch {
            #expect("\(error)" == "Unknown subcommand 'frobnicate'")
        }
    }

    @Test func unknownRunOptionsNameTheNearestOption() {
        #expect(CommandLineWords.unknownOption("--imgae", of: RunCommand.self) == "Unknown option '--imgae'. Did you mean '--image'?")
        #expect(CommandLineWords.unknownOption("--netwrok=none", of: RunCommand.self) == "Unknown option '--netwrok'. Did you mean '--network'?")
        #expect(CommandLineWords.unknownOption("-it", of: RunCommand.self) == "Unknown option '-it'. Did you mean '--tty'?")
        #expect(CommandLineWords.unknownOption("--zzzzzzzz", of: RunCommand.self) == "Unknown option '--zzzzzzzz'")
        #expect(CommandLineWords.optionNames(of: RunCommand.self).contains("-e"))
    }

    /// ArgumentParser captures run's words from the first one it does not know: an unknown
    /// option there is a usage error, not the command or a task's name.
    @Test func runRejectsAnUnknownOptionInsteadOfRunningIt() throws {
        #expect(throws: (any Error).self) { try RunCommand.parse(["--gpu", "all", "--", "nvidia-smi"]) }
        #expect(throws: (any Error).self) { try RunCommand.parse(["-it", "--", "sh"]) }
        let task = try RunCommand.parse(["lint", "--fix"])
        #expect(task.arguments.command == ["lint", "--fix"])
        let command = try RunCommand.parse(["--", "-weird-program"])
        #expect(command.arguments.command == ["-weird-program"])
    }

    @Test func nearestWordIsTheOneDefinitionOfClose() {
        #expect(NearestWord.nearest(to: "tset", among: ["test", "lint"]) == "test")
        #expect(NearestWord.nearest(to: "buidl", among: ["build", "run"]) == "build")
        #expect(NearestWord.nearest(to: "x", among: ["build"]) == nil)
    }

    @Test func secretsAreSpeltAsBuildKitSpellsThem() throws {
        var secrets = BuildSecrets()
        try secrets.addSecret("id=npmrc,src=/home/me/.npmrc")
        try secrets.addSecret("id=token,env=GITHUB_TOKEN")
        try secrets.addSecret("type=env,id=other,src=VAR")
        try secrets.addSecret("id=ALONE")
        try secrets.addAgent("default", agentSocket: "/run/agent.sock")
        try secrets.addAgent("work=/tmp/work.sock", agentSocket: nil)
        #expect(secrets.secrets == ["npmrc": .file("/home/me/.npmrc"), "token": .environment("GITHUB_TOKEN"), "other": .environment("VAR"), "ALONE": .environment("ALONE")])
        #expect(secrets.agents == ["default": "/run/agent.sock", "work": "/tmp/work.sock"])
        for bad in ["src=/x", "id=a,src=/x,env=Y", "id=a,bogus=1", "id=a,id=b", "id=a,type=tmpfs,src=/x"] {
            #expect(throws: SecretSpellingError.self, "\(bad)") { try secrets.addSecret(bad) }
        }
        #expect(throws: SecretSpellingError.self) { try secrets.addAgent("default", agentSocket: nil) }
        #expect(throws: (any Error).self) { try BuildCommand.parse(["--secret", "id=a,nope=1"]) }
    }
}
