import ArgumentParser
import DevenvKit
import DevenvRuntime
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
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let entries = EnvironmentStarter.running(layout: engine.store.layout).map(Self.entry)
            if global.json { return Terminal.printJSON(entries) }
            guard !entries.isEmpty else { return Terminal.note("no running environments") }
            var lines = ["PROJECT\tNAME\tIMAGE\tSTARTED\tPROCESSES"]
            for entry in entries {
                lines.append("\(entry.project)\t\(entry.name)\t\(entry.image)@\(entry.imageDigest.prefix(19))\t\(entry.started)\t\(entry.processes)\(entry.detached ? " (detached)" : "")")
            }
            Terminal.print(lines.joined(separator: "\n"))
        }
    }

    static func entry(_ record: EnvironmentRecord) -> Entry {
        Entry(project: record.project, name: record.name, image: record.image, imageDigest: record.imageDigest,
              started: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.started)),
              processes: EnvironmentDirectory.processCount(record), detached: record.detached, pid: record.initProcess.pid)
    }
}
