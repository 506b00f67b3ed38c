import ArgumentParser
import DevenvKit
import DevenvManifest
import DevenvStore
import Foundation

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove what no image, running environment or present project uses; with --max-size, trim the store to a budget.",
        discussion: """
        Without --max-size: every blob and snapshot no name, running environment or present \
        project's lock reaches, the build-cache entries of the layers that go, and the images, \
        build caches and cache mounts of projects whose directory no longer exists. With \
        --max-size: build-cache entries, cache mounts and images also stay, unless the least \
        recently used of them must go for the store to fit; nothing a running environment or \
        a present project's lock needs is removed. After builds and pulls the same budget runs \
        by itself with `[store] max-size` from ~/.config/devenv/config.toml (docs/store.md). \
        A snapshot loses its completion marker first and is renamed out of the store before its \
        files are removed, so an interrupted gc never leaves a partial snapshot that a later run \
        or pull would use; the next gc removes what it left.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Report what would be removed without removing anything.")
    var dryRun = false

    @Option(help: ArgumentHelp("Evict least recently used images, build-cache entries and cache mounts until the store fits in SIZE (e.g. 10GB, 512MiB).", valueName: "SIZE"))
    var maxSize: String?

    func validate() throws {
        if let maxSize, ByteSize.parse(maxSize) == nil {
            throw ValidationError("--max-size '\(maxSize)' is not a size (e.g. 10GB, 1.5GiB, 512MiB, or bytes)")
        }
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let report = try engine.collectGarbage(dryRun: dryRun, maxSize: maxSize.flatMap(ByteSize.parse)) {
                Terminal.note("waiting for running imports and builds to finish…")
            }
            if global.json { return Terminal.printJSON(report) }
            let verb = dryRun ? "would remove" : "removed"
            Terminal.print("\(verb) \(report.removedBlobs.count) blobs, \(report.removedSnapshots.count) snapshots, \(report.removedTemporary.count) temporary files, \(report.removedRecords.count) build-cache records: \(Terminal.bytes(report.bytesFreed)) \(dryRun ? "reclaimable" : "freed")")
            if !report.removedNames.isEmpty {
                Terminal.print("\(verb) \(report.removedNames.count) image name(s) of projects whose directory is gone")
            }
            if let budget = report.budget, let before = report.sizeBefore, let after = report.sizeAfter {
                let evicted = report.evicted.isEmpty ? "nothing to evict" : Self.evictionSummary(report)
                Terminal.print("budget \(Terminal.bytes(budget)): \(Terminal.bytes(before)) -> \(Terminal.bytes(after)); \(evicted)")
                if after > budget { Terminal.print("what remains is in use by running environments or pinned by present projects' locks") }
            }
            if report.keptInUse > 0 {
                Terminal.print("kept everything used by \(report.keptInUse) running environment(s)")
            }
        }
    }

    /// `evicted 2 images, 5 build-cache entries, 1 cache mount (least recently used)`
    static func evictionSummary(_ report: GarbageCollector.Report) -> String {
        let counts: [(GarbageCollector.Candidate.Kind, String, String)] = [
            (.image, "image", "images"), (.buildCache, "build-cache entry", "build-cache entries"), (.cacheMount, "cache mount", "cache mounts"),
        ]
        var parts = counts.compactMap { kind, one, many -> String? in
            let count = report.evicted.filter { $0.kind == kind }.count
            return count == 0 ? nil : "\(count) \(count == 1 ? one : many)"
        }
        if !report.removedNames.isEmpty { parts.append("\(report.removedNames.count) image(s) of removed projects") }
        return "evicted " + parts.joined(separator: ", ") + (report.evicted.isEmpty ? "" : " (least recently used)")
    }
}

/// `devenv df` and `devenv system df`: what the store holds, and what gc could free.
struct DFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "df",
        abstract: "Show the store's disk usage: images, build cache, cache mounts, snapshots, and what is reclaimable.",
        discussion: """
        SIZE counts what only that kind holds (layers an image shares with the build cache count \
        once, under images). RECLAIMABLE is what `devenv gc --max-size 0` would free of it: all \
        but what running environments and present projects' locks need. Snapshots are the \
        unpacked layers; reclaimable snapshots are those of no kept image, which a plain \
        `devenv gc` removes.
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let usage = try StoreBudget(engine: try global.engine()).usage()
            if global.json { return Terminal.printJSON(usage) }
            let rows = [["TYPE", "COUNT", "SIZE", "RECLAIMABLE"]] + usage.rows.map {
                [$0.kind, String($0.count), Terminal.bytes($0.bytes), Terminal.bytes($0.reclaimable)]
            } + [["total", "", Terminal.bytes(usage.total), ""]]
            let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                Terminal.print(row.enumerated().map { index, cell in
                    cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }
}

struct SystemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "Store-wide commands.",
        subcommands: [DFCommand.self]
    )
}
