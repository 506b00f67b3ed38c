import ArgumentParser
import DevenvPlan
import Foundation

/// `devenv build --secret` and `--ssh`, spelt as BuildKit spells them (docs/daily-use.md).
struct SecretOptions: ParsableArguments {
    @Option(name: .customLong("secret"), help: ArgumentHelp("A secret for RUN --mount=type=secret and [[step]] secrets: id=ID,src=FILE or id=ID,env=VAR.", valueName: "SPEC"))
    var secrets: [String] = []

    @Option(name: .customLong("ssh"), help: ArgumentHelp("An SSH agent for RUN --mount=type=ssh: ID (the agent of $SSH_AUTH_SOCK; default) or ID=SOCKET.", valueName: "ID[=SOCKET]"))
    var agents: [String] = []

    init() {}

    func validate() throws { _ = try values() }

    /// Files are made absolute here, where the command line was written.
    func values(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BuildSecrets {
        var values = BuildSecrets()
        do {
            for text in secrets { try values.addSecret(text) }
            for text in agents { try values.addAgent(text, agentSocket: environment["SSH_AUTH_SOCK"]) }
        } catch {
            throw ValidationError(error.description)
        }
        let directory = FileManager.default.currentDirectoryPath
        for (id, source) in values.secrets {
            if case let .file(path) = source, !path.hasPrefix("/") { values.secrets[id] = .file(directory + "/" + path) }
        }
        for (id, socket) in values.agents where !socket.hasPrefix("/") { values.agents[id] = directory + "/" + socket }
        return values
    }
}
