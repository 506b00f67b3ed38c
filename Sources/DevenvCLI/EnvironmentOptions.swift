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

    /// A session on `--image` or `--rootfs` is its own container, never a kept environment.
    func validate(projectMode: Bool, detach: Bool = false) throws {
        guard !projectMode, name != nil || detach else { return }
        throw ValidationError("\(name != nil ? "--name" : "--detach") applies to a project's environment; an --image or --rootfs session is a container of its own")
    }
}
