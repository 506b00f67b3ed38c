import ArgumentParser
import DevenvKit
import DevenvManifest
import DevenvRuntime
import DevenvSystem

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the project's services (or the named ones and what they depend on) in the background, and wait until they are ready.",
        discussion: "Each service runs in its own container, supervised by its init, until `devenv down`. Prints where each one listens. Exits 0 when every service is ready, 125 when one could not start or never became ready (with its last log lines).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Services to start (default: all).", valueName: "SERVICE"))
    var names: [String] = []

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let project = try ServiceLauncher.project(command: "up")
            guard !project.manifest.services.isEmpty else {
                Terminal.note("\(project.displayPath) defines no services (add a [services.NAME] table)")
                return
            }
            let launcher = ServiceLauncher(global: global, project: project, engine: engine)
            let entered = try launcher.start(names.isEmpty ? nil : names, detached: true) { started in
                Terminal.print(Self.line(started))
            }
            ServiceLauncher.leave(entered)
        }
    }

    /// `db  ready in 1.2 s  127.0.0.1:5432`, or `db  already running  127.0.0.1:5432`.
    static func line(_ entered: ServiceLauncher.Entered) -> String {
        let state = entered.outcome == .alreadyRunning ? "already running" : "ready in \(String(format: "%.1f", entered.seconds)) s"
        let ports = entered.service.ports.map { "127.0.0.1:\($0.value)" }.joined(separator: " ")
        return [entered.service.name, state, ports].filter { !$0.isEmpty }.joined(separator: "  ")
    }
}

struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the project's services: SIGTERM, then SIGKILL after --time. With --volumes, also remove their named volumes.",
        discussion: "Named volumes survive `down` unless --volumes is given. Exits 0, or 125 when a service could not be stopped.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Also remove the services' named volumes (their data).")
    var volumes = false

    @Option(name: [.customShort("t"), .long], help: ArgumentHelp("Seconds to wait after SIGTERM before SIGKILL.", valueName: "SECONDS"))
    var time: Int = 10

    func validate() throws {
        guard (0...3600).contains(time) else { throw ValidationError("--time must be between 0 and 3600 seconds") }
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let root = try ProjectLocator.load(from: try HostPath.currentDirectory()).root
            let services = ProjectServices(layout: engine.store.layout, root: root)
            let manifest = try? Project.load(root: root).manifest
            let order = (manifest?.servicesStartOrder() ?? []).map(\.name).reversed()
            let running = services.running()
            // The manifest's order reversed (dependents first), then whatever it no longer names.
            for name in order.filter({ running[$0] != nil }) + running.keys.sorted().filter({ !order.contains($0) }) {
                switch try services.directory.stop(name, timeout: .seconds(time)) {
                case .stopped: Terminal.note("stopped \(name)")
                case .killed: Terminal.note("stopped \(name) (killed: still running \(time) s after SIGTERM)")
                case .notRunning: break
                }
            }
            services.forgetStates()
            if volumes {
                let names = services.volumes()
                try services.removeVolumes(names)
                for name in names { Terminal.note("removed volume \(name)") }
            }
            if running.isEmpty && !volumes { Terminal.note("no services are running for this project") }
        }
    }
}
