import ArgumentParser
import DevenvKit
import DevenvOCI
import DevenvStore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify the store: blob digests and sizes, snapshot completeness, names and build-cache records.",
        discussion: """
        Every blob is hashed and compared with its name; every image name must reach a manifest, \
        a config and layers that are present, intact and of their declared sizes; every snapshot \
        needs its completion marker; build-cache records and project state must point at what \
        exists. Damage is listed and the exit status is \(DevenvExit.storeDamaged). With --repair, \
        damaged blobs, snapshots, names and records are removed (the next pull or build makes \
        them again) and the exit status is 0 when everything found was repaired.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Remove what is damaged, so the next pull or build re-creates it.")
    var repair = false

    func run() throws {
        try reportingErrors {
            let report = try global.engine().storeCheck().run(repair: repair) {
                Terminal.note("waiting for running imports and builds to finish…")
            }
            if global.json {
                Terminal.printJSON(report)
            } else {
                for finding in report.findings {
                    Terminal.print(Self.line(finding))
                }
                let damage = report.damage.count
                let summary = "checked \(report.blobs) blobs, \(report.images) images, \(report.snapshots) snapshots, \(report.records) records: "
                Terminal.print(summary + (damage == 0 ? "no damage" : "\(damage) damaged, \(damage - report.unrepaired.count) repaired"))
                if !repair && damage > 0 { Terminal.note("hint: `devenv check --repair` removes what is damaged; the next pull or build makes it again") }
            }
            if !report.unrepaired.isEmpty { throw ExitCode(DevenvExit.storeDamaged) }
        }
    }

    static func line(_ finding: StoreChecker.Finding) -> String {
        let label = finding.isDamage ? "damaged \(finding.kind.rawValue)" : "leftover"
        var text = "\(label) \(Printable.quoted(finding.object)): \(Printable.escape(finding.problem))"
        if let repaired = finding.repaired { text += " (\(repaired))" }
        return text
    }
}
