import ArgumentParser

/// Options every command accepts (`devenv --store DIR image ls --json`).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Use DIR as the store instead of $DEVENV_HOME or the default location.", valueName: "DIR"))
    var store: String?

    @Flag(name: .long, help: "Print machine-readable JSON (listing and inspect commands).")
    var json = false

    @Flag(name: .long, help: "Log what devenv does (registry requests without credentials, mounts, timings) to stderr; also DEVENV_LOG=debug.")
    var debug = false

    init() {}

    /// While the command line is read, before the command runs.
    func validate() throws {
        if debug { DebugLogging.enable() }
    }
}
