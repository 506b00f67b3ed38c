import ArgumentParser
import DevenvOCI
import DevenvRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check credentials for a registry and save them in docker's config.json.",
        discussion: """
        The password is read from stdin with --password-stdin, or asked for without echo on a terminal; it is \
        never an argument. Credentials go to the configured docker credential helper, or to \
        $DOCKER_CONFIG/config.json (default ~/.docker/config.json, mode 0600).
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The registry (host[:port]; docker.io for Docker Hub).")
    var registry: String

    @Option(name: [.short, .long], help: "The user name (asked for when omitted).")
    var username: String?

    @Flag(help: "Read the password from stdin.")
    var passwordStdin = false

    func run() throws {
        try reportingErrors {
            let registry = DockerCredentialStore.registryName(registry)
            guard !registry.isEmpty else { throw ValidationError("empty registry name") }
            let user = try username ?? Self.prompt("Username: ")
            guard !user.isEmpty else { throw ValidationError("empty user name") }
            let password: String
            if passwordStdin {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
            } else {
                password = try Self.promptHidden("Password: ")
            }
            guard !password.isEmpty else { throw ValidationError("empty password") }
            let credentials = Credentials(username: user, secret: password)
            let configuration = try RegistryConfiguration.standard()
            try RegistryClient(configuration: configuration).verifyLogin(registry: registry, credentials: credentials)
            let store = DockerCredentialStore()
            try store.store(credentials, for: registry)
            Terminal.print("logged in to \(registry) (credentials saved for \(DockerCredentialStore.serverKey(for: registry)))")
        }
    }

    static func prompt(_ text: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else { throw ValidationError("no terminal to ask on: pass --username") }
        Terminal.prompt(text)
        return readLine(strippingNewline: true) ?? ""
    }

    /// Reads a line from the terminal with echo off, restoring the terminal afterwards.
    static func promptHidden(_ text: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("no terminal to ask for the password on: use --password-stdin")
        }
        Terminal.prompt(text)
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }
}

struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove saved credentials for a registry."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The registry (host[:port]; docker.io for Docker Hub).")
    var registry: String

    func run() throws {
        try reportingErrors {
            let registry = DockerCredentialStore.registryName(registry)
            let removed = try DockerCredentialStore().erase(for: registry)
            Terminal.print(removed ? "removed credentials for \(registry)" : "no saved credentials for \(registry) in the config file")
        }
    }
}
