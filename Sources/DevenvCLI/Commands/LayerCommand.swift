import ArgumentParser
import DevenvArchive
import DevenvOCI
import Foundation

/// `devenv layer unpack|create`: the layer engine on its own, for debugging and benchmarks.
struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer",
        abstract: "Unpack or create a single layer tar (debugging and benchmarks).",
        subcommands: [LayerUnpackCommand.self, LayerCreateCommand.self]
    )
}

private func parseCompression(_ text: String?) throws -> LayerCompression? {
    guard let text else { return nil }
    guard let value = LayerCompression(rawValue: text) else {
        throw ValidationError("--compression must be one of: gzip, zstd, none")
    }
    return value
}

private func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    Terminal.print(String(decoding: data, as: UTF8.self))
}

struct LayerUnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Extract a layer blob into DIR as an overlayfs lower dir (whiteouts become 0:0 devices)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The layer blob: gzip, zstd or plain tar (sniffed).")
    var blob: String

    @Argument(help: "The destination directory; created if missing, and should be empty.")
    var directory: String

    @Option(help: ArgumentHelp("The declared compression; the blob is rejected if its bytes disagree.", valueName: "gzip|zstd|none"))
    var compression: String?

    func validate() throws {
        _ = try parseCompression(compression)
    }

    func run() throws {
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let report = try LayerUnpacker.unpack(layerAt: blob, declared: try parseCompression(compression), into: directory)
        if global.json {
            try printJSON(["diffID": report.diffID.description, "compression": report.compression.rawValue,
                           "entries": report.entries, "uncompressedBytes": report.uncompressedBytes, "warnings": report.warnings])
            return
        }
        Terminal.print("diffID       \(report.diffID)")
        Terminal.print("compression  \(report.compression.rawValue)")
        Terminal.print("entries      \(report.entries)")
        Terminal.print("bytes        \(report.uncompressedBytes)")
        for warning in report.warnings { Terminal.print("warning: \(warning)") }
    }
}

struct LayerCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Write DIR (an overlay upper dir or any directory) as a layer blob."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The directory to archive.")
    var directory: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The layer blob to write.", valueName: "FILE"))
    var output: String

    @Option(help: ArgumentHelp("Compression of the blob (default zstd).", valueName: "zstd|gzip|none"))
    var compression: String?

    @Option(help: ArgumentHelp("Clamp mtimes to at most EPOCH seconds (like SOURCE_DATE_EPOCH).", valueName: "EPOCH"))
    var mtime: Int64?

    func validate() throws {
        _ = try parseCompression(compression)
    }

    func run() throws {
        var options = LayerWriteOptions()
        if let compression = try parseCompression(compression) { options.compression = compression }
        options.clampMTime = mtime
        let blob = try LayerWriter.write(directory: directory, to: output, options: options)
        if global.json {
            try printJSON(["digest": blob.digest.description, "size": blob.size, "diffID": blob.diffID.description,
                           "uncompressedSize": blob.uncompressedSize, "mediaType": blob.mediaType, "warnings": blob.warnings])
            return
        }
        Terminal.print("digest     \(blob.digest)")
        Terminal.print("size       \(blob.size)")
        Terminal.print("diffID     \(blob.diffID)")
        Terminal.print("mediaType  \(blob.mediaType)")
        for warning in blob.warnings { Terminal.print("warning: \(warning)") }
    }
}
