import ArgumentParser
import DevenvKit
import DevenvSystem
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the project's manifest, lock state, and whether the environment is up to date (and if not, why)."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let status = try ProjectLocator.load(from: try HostPath.currentDirectory()).status(engine: engine)
            if global.json { return Terminal.printJSON(status) }
            let lock: String
            switch status.lock {
            case .current: lock = "current (.devenv/devenv.lock)"
            case .stale: lock = "stale: the manifest changed since it was locked; `devenv lock --diff` shows how, `devenv lock` or a build updates it"
            case .missing: lock = "none yet; `devenv lock` or a build writes .devenv/devenv.lock"
            case .notApplicable: lock = "none: a devcontainer.json is built as written (pin \"image\" by digest to make it reproducible)"
            }
            var lines = [
                "project:  \(status.project)",
                "manifest: \(status.manifest)",
                "base:     \(status.base) (\(status.baseDigest))",
                "lock:     \(lock)",
            ]
            if status.pending.isEmpty && status.built {
                lines.append("image:    \(status.image): up to date")
            } else {
                lines.append("image:    \(status.image): \(status.pending.count) step(s) would run")
                lines += status.pending.map { "  step \($0.number) \($0.location): \($0.summary): \($0.reason)" }
            }
            Terminal.print(lines.joined(separator: "\n"))
        }
    }
}
