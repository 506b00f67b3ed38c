import ArgumentParser

extension ProgressMode: ExpressibleByArgument {}

/// `--progress` and `--quiet`, on the commands that show progress (build, pull, push, run, shell).
struct ProgressOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How to show progress: auto (tty on a terminal, else plain), tty, plain, or json (one event per line on stderr; docs/progress.md).", valueName: "MODE"))
    var progress: ProgressMode = .auto

    @Flag(name: [.customShort("q"), .long], help: "Show no progress and no notes; errors and warnings only.")
    var quiet = false

    init() {}

    /// Before the command prints anything.
    func apply() {
        ProgressDisplay.shared.configure(mode: progress, quiet: quiet)
    }
}
