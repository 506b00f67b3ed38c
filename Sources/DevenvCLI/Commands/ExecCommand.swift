import ArgumentParser
import DevenvLaunch
import DevenvSession

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in the project's running environment (as `devenv shell` started it).",
        discussion: """
            Joins the running environment's namespaces, root filesystem and mounts, so the command sees the processes and \
            files of the other sessions. The user, environment and working directory are those of a project session. \
            Exits with the command's status (128+N when killed by signal N); 1 when no environment of that name runs; \
            125/126/127 as `devenv run`.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ContainerOptions
    @OptionGroup var environment: EnvironmentOptions
    @OptionGroup var display: ProgressOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("-- CMD [ARGS…]: the command to run.", valueName: "CMD"))
    var command: [String] = []

    mutating func validate() throws {
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else { throw ValidationError("missing command: devenv exec [--name NAME] -- CMD [ARGS...]") }
        guard options.projectMode else { throw ValidationError("devenv exec joins a project's environment; --image and --rootfs do not apply") }
    }

    func run() throws {
        display.apply()
        var launcher = SessionLauncher(options: options.values, global: global)
        launcher.environmentName = environment.name
        launcher.environmentMode = .joinOnly
        try launcher.run(command: command, defaultTerminal: SessionOptions.stdioIsTerminal)
    }
}
