import ArgumentParser

/// Options every command accepts (`devenv --store DIR image ls --json`).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Use DIR as the store instead of $DEVENV_HOME or the default location.", valueName: "DIR"))
    var store: String?

    @Flag(name: .long, help: "Print machine-readable JSON (listing and inspect commands).")
    var json = false

    init() {}
}
