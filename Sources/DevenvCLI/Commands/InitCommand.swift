import ArgumentParser
import DevenvAdopt
import DevenvKit
import DevenvOCI
import DevenvSystem
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create .devenv/devenv.toml from a template (see --list).",
        discussion: "Every template builds on a Debian base that devenv bootstraps itself from the Debian archive, so the environment needs no registry. Writes nothing but .devenv/devenv.toml."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The template (default: \(ProjectTemplate.defaultName)).", valueName: "NAME"))
    var template: String?

    @Flag(help: "Convert the project's .devcontainer/devcontainer.json instead of using a template.")
    var fromDevcontainer = false

    @Flag(help: "Replace an existing .devenv/devenv.toml.")
    var force = false

    @Flag(help: "List the templates and exit.")
    var list = false

    @Argument(help: ArgumentHelp("The project directory (default: the current directory).", valueName: "DIRECTORY"))
    var directory: String?

    func validate() throws {
        if fromDevcontainer && template != nil { throw ValidationError("--from-devcontainer and --template exclude each other") }
        if !list, let template, ProjectTemplate.named(template) == nil {
            throw ValidationError("no template '\(Printable.escape(template))'; choose one of: \(ProjectTemplate.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        try reportingErrors {
            if list { return printList() }
            let target = try directory ?? HostPath.currentDirectory()
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw KitError.notADirectory(path: target, purpose: nil)
            }
            if fromDevcontainer {
                let path = try DevContainerConverter.write(root: target, force: force)
                if global.json { return Terminal.printJSON(["manifest": path, "from": "devcontainer.json"]) }
                Terminal.print("created \(Printable.escape(path)) from .devcontainer/devcontainer.json")
                return
            }
            let chosen = ProjectTemplate.named(template ?? ProjectTemplate.defaultName)!
            let path = try ProjectInitializer.initialize(directory: target, template: chosen, force: force)
            if global.json { return Terminal.printJSON(["manifest": path, "template": chosen.name]) }
            Terminal.print("created \(Printable.escape(path)) from template '\(chosen.name)': \(chosen.summary)")
            Terminal.note("next: `devenv build` (the first build bootstraps the base from the distribution's archive), then `devenv shell`")
        }
    }

    private func printList() {
        let templates = ProjectTemplate.all
        if global.json {
            return Terminal.printJSON(templates.map { ["name": $0.name, "description": $0.summary] })
        }
        let width = templates.map(\.name.count).max() ?? 0
        for template in templates {
            let marker = template.name == ProjectTemplate.defaultName ? " (default)" : ""
            Terminal.print(template.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + template.summary + marker)
        }
    }
}
