import ArgumentParser

/// Options every command accepts (`devenv --store DIR image ls --json`).
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Use DIR as the store instead of $DEVENV_HOME or the default location.", valueName: "DIR"))
    public var store: String?

    @Flag(name: .long, help: "Print machine-readable JSON (listing and inspect commands).")
    public var json = false

    public init() {}
}
