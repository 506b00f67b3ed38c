import ArgumentParser

/// Everything `devenv run` accepts. The lean front end and the full CLI parse with this same
/// type, so both read a command line identically.
public struct RunArguments: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var options: ContainerOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("-- CMD [ARGS…] runs a command; in a project, TASK [ARGS…] runs a task from [tasks].", valueName: "CMD"))
    public var command: [String] = []

    /// Whether the words came after `--` (a command) rather than naming a task.
    public private(set) var explicitCommand = false

    public init() {}

    public mutating func validate() throws {
        if command.first == "--" {
            command.removeFirst()
            explicitCommand = true
        }
        guard !command.isEmpty else {
            throw ValidationError("missing command: devenv run -- CMD [ARGS...], devenv run TASK, or devenv run --image NAME -- CMD")
        }
    }

    /// In a project, words not after `--` name a task from [tasks].
    public var namesTask: Bool { options.projectMode && !explicitCommand }
}

/// Everything `devenv shell` accepts.
public struct ShellArguments: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var options: ContainerOptions

    public init() {}
}
