import ArgumentParser
import DevenvKit

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove blobs and snapshots no image, build cache or running environment uses."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Report what would be removed without removing anything.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let report = try engine.collectGarbage(dryRun: dryRun) {
                Terminal.note("waiting for running imports and builds to finish…")
            }
            if global.json { return Terminal.printJSON(report) }
            let verb = dryRun ? "would remove" : "removed"
            Terminal.print("\(verb) \(report.removedBlobs.count) blobs, \(report.removedSnapshots.count) snapshots, \(report.removedTemporary.count) temporary files, \(report.removedRecords.count) build-cache records: \(Terminal.bytes(report.bytesFreed)) \(dryRun ? "reclaimable" : "freed")")
            if report.keptInUse > 0 {
                Terminal.print("kept everything used by \(report.keptInUse) running environment(s)")
            }
        }
    }
}
