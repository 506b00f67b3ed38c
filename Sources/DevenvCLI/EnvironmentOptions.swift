import ArgumentParser
import DevenvRuntime

/// Which of the project's running environments a session starts or joins.
struct EnvironmentOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("In a project: the environment to start or join (default: 'default'); several can run side by side.", valueName: "NAME"))
    var name: String?

    init() {}

    func validate() throws {
        if let name, !EnvironmentRequest.validName(name) {
            throw ValidationError("environment name '\(name)': use letters, digits, '.', '_' and '-' (at most 64, not starting with '.' or '-')")
        }
    }
}
