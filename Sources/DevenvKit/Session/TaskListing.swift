import DevenvManifest
import DevenvPlan

/// One of the project's `[tasks]` as `devenv tasks` (and a missing task's error) lists it.
public struct TaskListing: Encodable, Equatable, Sendable {
    public var name: String
    /// The shell script, or the argv as one shell-quoted line.
    public var command: String
    public var description: String?

    /// A devcontainer.json project has no tasks.
    public static func all(in project: ProjectSource) -> [TaskListing] {
        guard case let .manifest(manifestProject) = project else { return [] }
        return manifestProject.manifest.tasks.map { task in
            let command: String
            switch task.command.value {
            case let .shell(script): command = script
            case let .argv(argv): command = argv.map(RunStep.shellQuote).joined(separator: " ")
            }
            return TaskListing(name: task.name, command: command, description: task.description)
        }
    }
}
