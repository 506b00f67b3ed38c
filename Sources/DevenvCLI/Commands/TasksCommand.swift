import ArgumentParser
import DevenvKit
import DevenvManifest
import DevenvSystem

/// `devenv tasks`: the project's `[tasks]`, what `devenv run NAME` can run.
struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List the project's tasks ([tasks] in .devenv/devenv.toml), which `devenv run NAME` runs."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let rows = TaskListing.all(in: try ProjectLocator.load(from: try HostPath.currentDirectory()))
            if global.json { return Terminal.printJSON(rows) }
            guard !rows.isEmpty else { return Terminal.print("no tasks: add them to [tasks] in .devenv/devenv.toml") }
            let width = rows.map(\.name.count).max() ?? 0
            Terminal.print(rows.map { row in
                let name = Printable.escape(row.name).padding(toLength: width, withPad: " ", startingAt: 0)
                return "\(name)  \(Printable.escape(row.description ?? row.command, limit: 200))"
            }.joined(separator: "\n"))
        }
    }
}
