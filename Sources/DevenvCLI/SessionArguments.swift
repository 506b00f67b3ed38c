import ArgumentParser

/// Everything `devenv run` accepts. The lean front end and the full CLI parse with this same
/// type, so both read a command line identically.
struct RunArguments: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ContainerOptions
    @OptionGroup var environment: EnvironmentOptions
    @OptionGroup var display: ProgressOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("-- CMD [ARGS…] runs a command; in a project, TASK [ARGS…] runs a task from [tasks].", valueName: "CMD"))
    var command: [String] = []

    /// Whether the words came after `--` (a command) rather than naming a task.
    private(set) var explicitCommand = false

    init() {}

    mutating func validate() throws {
        if command.first == "--" {
            command.removeFirst()
            explicitCommand = true
        } else if let first = command.first, first.hasPrefix("-"), first != "-", first != "--help", first != "-h" {
            // Captured words start at the first one ArgumentParser does not know: an option
            // devenv does not have, which must not become the command or a task's name.
            throw ValidationError(CommandLineWords.unknownOption(first, of: RunCommand.self))
        }
        guard !command.isEmpty else {
            throw ValidationError("missing command: devenv run -- CMD [ARGS...], devenv run TASK, or devenv run --image NAME -- CMD")
        }
        try environment.validate(projectMode: options.projectMode)
    }

    /// In a project, words not after `--` name a task from [tasks].
    var namesTask: Bool { options.projectMode && !explicitCommand }
}

/// Everything `devenv shell` accepts.
struct ShellArguments: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ContainerOptions
    @OptionGroup var environment: EnvironmentOptions

    @Flag(name: .long, help: "In a project: start the environment (or keep the running one) without a shell; it runs until `devenv stop`.")
    var detach = false
    @OptionGroup var display: ProgressOptions

    init() {}

    func validate() throws {
        try environment.validate(projectMode: options.projectMode, detach: detach)
    }
}
