import ArgumentParser
import DevenvLaunch
import DevenvSession
import DevenvKit

struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "Start an interactive shell in the project's environment (built as needed), or in an image.",
        discussion: "The shell is the image's $SHELL, else bash, else sh. It runs as your own uid/gid with a home directory, on a terminal when stdin and stdout are one.")

    @OptionGroup var arguments: ShellArguments

    func run() throws {
        arguments.display.apply()
        var launcher = SessionLauncher(options: arguments.options.values, global: arguments.global)
        launcher.environmentName = arguments.environment.name
        launcher.detach = arguments.detach
        try launcher.run(command: nil, defaultTerminal: SessionOptions.stdioIsTerminal)
    }
}
