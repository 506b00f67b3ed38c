import ArgumentParser
import DevenvKit
import DevenvLaunch
import DevenvRuntime
import DevenvSystem

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop one of the project's running environments: SIGTERM to every process, SIGKILL after --time.",
        discussion: "Exits 0 when it stopped (or had to kill) the environment, 1 when none of that name runs, 125 when it could not.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The environment (default: 'default').", valueName: "NAME"))
    var name: String = EnvironmentRequest.defaultName

    @Option(name: [.customShort("t"), .long], help: ArgumentHelp("Seconds to wait after SIGTERM before SIGKILL.", valueName: "SECONDS"))
    var time: Int = 10

    func validate() throws {
        guard EnvironmentRequest.validName(name) else { throw ValidationError("environment name '\(name)' is not valid") }
        guard (0...3600).contains(time) else { throw ValidationError("--time must be between 0 and 3600 seconds") }
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let project = try ProjectLocator.load(from: try HostPath.currentDirectory())
            let directory = EnvironmentStarter.directory(layout: engine.store.layout, root: project.root)
            switch try directory.stop(name, timeout: .seconds(time)) {
            case .stopped:
                Terminal.note("stopped environment '\(name)'")
            case .killed:
                Terminal.note("stopped environment '\(name)' (killed: still running \(time)s after SIGTERM)")
            case .notRunning:
                Terminal.error("devenv: error: no environment '\(name)' is running for this project")
                throw ExitCode(EnvironmentExit.notRunning)
            }
        }
    }
}
