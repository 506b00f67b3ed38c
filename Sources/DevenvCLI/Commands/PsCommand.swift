import ArgumentParser
import DevenvKit
import DevenvRuntime
import DevenvStore
import Foundation

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List running environments: project, name, image, when it started, how many processes.")

    @OptionGroup var global: GlobalOptions

    /// One line of `devenv ps --json`.
    struct Entry: Encodable {
        var project: String
        var name: String
        var image: String
        var imageDigest: String
        var started: String
        var processes: Int
        var detached: Bool
        var pid: Int32
        /// Set for a service's container (`devenv up`).
        var service: ServiceEntry?
    }

    struct ServiceEntry: Encodable {
        /// running, restarting or exited
        var state: String
        var ready: Bool
        var restarts: Int
        var lastExit: String?
        var ports: [Int]
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let entries = EnvironmentStarter.running(layout: engine.store.layout).map(Self.entry)
            let services = Self.services(layout: engine.store.layout)
            if global.json { return Terminal.printJSON(entries + services) }
            guard !entries.isEmpty || !services.isEmpty else { return Terminal.note("no running environments or services") }
            var lines: [String] = []
            if !entries.isEmpty {
                lines.append("PROJECT\tNAME\tIMAGE\tSTARTED\tPROCESSES")
                for entry in entries {
                    lines.append("\(entry.project)\t\(entry.name)\t\(entry.image)@\(entry.imageDigest.prefix(19))\t\(entry.started)\t\(entry.processes)\(entry.detached ? " (detached)" : "")")
                }
            }
            if !services.isEmpty {
                if !lines.isEmpty { lines.append("") }
                lines.append("PROJECT\tSERVICE\tSTATE\tPORTS\tIMAGE")
                for entry in services {
                    lines.append("\(entry.project)\t\(entry.name)\t\(Self.stateText(entry))\t\(entry.service?.ports.map(String.init).joined(separator: ",") ?? "")\t\(entry.image)")
                }
            }
            Terminal.print(lines.joined(separator: "\n"))
        }
    }

    /// Every project's services: the running ones, and those whose state file says how they
    /// ended (until `devenv down`).
    static func services(layout: StoreLayout) -> [Entry] {
        ProjectState.all(in: layout).flatMap { state -> [Entry] in
            let services = ProjectServices(state: state, root: state.recordedRoot ?? state.directory)
            let running = services.running()
            return services.stateNames().compactMap { name -> Entry? in
                let phase = services.state(of: name)
                if let record = running[name] {
                    var entry = entry(record)
                    entry.service = ServiceEntry(state: phase?.phase.rawValue ?? "running", ready: record.service?.ready != nil,
                                                 restarts: phase?.restarts ?? 0, lastExit: phase?.lastExit, ports: record.service?.ports ?? [])
                    return entry
                }
                guard let phase, phase.phase != .stopped else { return nil }
                return Entry(project: services.root, name: name, image: "", imageDigest: "", started: "", processes: 0, detached: false, pid: 0,
                             service: ServiceEntry(state: ServiceState.Phase.exited.rawValue, ready: false, restarts: phase.restarts,
                                                   lastExit: phase.lastExit, ports: []))
            }
        }
    }

    /// `running (ready)`, `restarting (3 restarts; last: exited with status 1)`, `exited with status 1`.
    static func stateText(_ entry: Entry) -> String {
        guard let service = entry.service else { return "" }
        var details: [String] = []
        if service.state == "running" && service.ready { details.append("ready") }
        if service.restarts > 0 { details.append("\(service.restarts) restart\(service.restarts == 1 ? "" : "s")") }
        if service.state == "exited", let last = service.lastExit { return last + (details.isEmpty ? "" : " (\(details.joined(separator: "; ")))") }
        if service.state != "running", let last = service.lastExit { details.append("last: \(last)") }
        return service.state + (details.isEmpty ? "" : " (\(details.joined(separator: "; ")))")
    }

    static func entry(_ record: EnvironmentRecord) -> Entry {
        Entry(project: record.project, name: record.name, image: record.image, imageDigest: record.imageDigest,
              started: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.started)),
              processes: EnvironmentDirectory.processCount(record), detached: record.detached, pid: record.initProcess.pid, service: nil)
    }
}
