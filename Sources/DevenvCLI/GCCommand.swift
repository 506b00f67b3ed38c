import ArgumentParser
import DevenvKit

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove blobs and snapshots no image, build cache or running environment uses.",
        discussion: """
        A snapshot loses its completion marker first and is renamed out of the store before its \
        files are removed, so an interrupted gc never leaves a partial snapshot that a later run \
        or pull would use; the next gc removes what it left. Build-cache records of the layers \
        it removes go too.
        """
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
