import ArgumentParser
import DevenvKit
import DevenvOCI
import DevenvStore

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Manage images in the store.",
        subcommands: [ImageImportCommand.self, ImageExportCommand.self, ImageListCommand.self, ImageInspectCommand.self, ImageRemoveCommand.self]
    )
}

struct ImageImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a root filesystem (tarball or directory), an OCI layout or archive, or a docker save archive."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The file or directory to import.")
    var source: String

    @Option(help: "The name to give the image (NAME[:TAG]).")
    var tag: String

    @Option(help: "Which image to take from a layout or archive holding several (its ref name or tag).")
    var ref: String?

    @Option(help: "Compression for layers devenv creates (zstd, gzip or none).")
    var compression: String = "zstd"

    func run() throws {
        try reportingErrors {
            let reference = try Reference(parsing: tag)
            guard let layerCompression = LayerCompression(rawValue: compression) else {
                throw KitError.invalidOption(option: "--compression", value: compression, allowed: ["zstd", "gzip", "none"])
            }
            var importer = try global.engine().importer()
            importer.compression = layerCompression
            importer.progress = { Terminal.progress("importing \($0)") }
            let image = try importer.importImage(from: source, tag: reference, ref: ref)
            Terminal.endProgress()
            Terminal.print("\(image.familiarName) \(image.manifestDescriptor.digest)")
        }
    }
}

struct ImageExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an image to an archive that podman load, docker load or skopeo can read."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image (name, digest or id).")
    var image: String

    @Option(name: .shortAndLong, help: "The archive to write.")
    var output: String

    @Option(help: "oci (an OCI archive) or docker (a docker save archive).")
    var format: String = "oci"

    func run() throws {
        try reportingErrors {
            guard let archiveFormat = ImageExporter.Format(rawValue: format) else {
                throw KitError.invalidOption(option: "--format", value: format, allowed: ["oci", "docker"])
            }
            let engine = try global.engine()
            let stored = try engine.store.image(image)
            Terminal.progress("exporting \(stored.familiarName)")
            try engine.exporter().export(stored, to: output, format: archiveFormat)
            Terminal.endProgress()
            Terminal.print("\(stored.familiarName) \(stored.manifestDescriptor.digest) -> \(output)")
        }
    }
}

struct ImageListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images.", aliases: ["list"])

    @OptionGroup var global: GlobalOptions

    struct Row: Encodable {
        var name: String
        var id: String
        var digest: String
        var size: Int64
        var layers: Int
        var created: String?
    }

    func run() throws {
        try reportingErrors {
            let images = try global.engine().store.images()
            let rows = images.map {
                Row(name: $0.familiarName, id: $0.id, digest: $0.manifestDescriptor.digest.description,
                    size: $0.size, layers: $0.manifest.layers.count, created: $0.config.created)
            }
            if global.json { return Terminal.printJSON(rows) }
            let table = [["NAME", "ID", "LAYERS", "SIZE", "CREATED"]] + rows.map {
                [$0.name, $0.id, "\($0.layers)", Terminal.bytes($0.size), $0.created ?? "-"]
            }
            TableFormatter.print(table)
        }
    }
}

struct ImageInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show an image's manifest, config and layers.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image (name, digest or id).")
    var image: String

    struct Details: Encodable {
        var name: String
        var digest: String
        var manifest: ImageManifest
        var config: ImageConfig
    }

    func run() throws {
        try reportingErrors {
            let stored = try global.engine().store.image(image)
            if global.json {
                return Terminal.printJSON(Details(name: stored.name, digest: stored.manifestDescriptor.digest.description,
                                                  manifest: stored.manifest, config: stored.config))
            }
            let run = stored.config.config
            var lines = [
                "Name:        \(stored.familiarName)",
                "Digest:      \(stored.manifestDescriptor.digest)",
                "Platform:    \(stored.config.platform)",
                "Created:     \(stored.config.created ?? "-")",
                "Config:      \(stored.manifest.config.digest) (\(stored.manifest.config.size) bytes)",
                "Entrypoint:  \(run?.entrypoint?.description ?? "-")",
                "Cmd:         \(run?.cmd?.description ?? "-")",
                "WorkingDir:  \(run?.workingDir ?? "-")",
                "User:        \(run?.user ?? "-")",
                "Env:",
            ]
            lines += (run?.env ?? []).map { "  \(Printable.escape($0))" }
            lines.append("Layers (\(stored.manifest.layers.count), \(Terminal.bytes(stored.size)) compressed):")
            for (number, layer) in stored.manifest.layers.enumerated() {
                lines.append("  \(layer.digest)  \(Terminal.bytes(layer.size))  \(layer.mediaType)")
                lines.append("    diff_id \(stored.config.rootfs.diffIDs[number])")
            }
            Terminal.print(lines.joined(separator: "\n"))
        }
    }
}

struct ImageRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove image names; `devenv gc` frees their space.", aliases: ["remove"])

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The images (name, digest or id).")
    var images: [String]

    func run() throws {
        try reportingErrors {
            let store = try global.engine().store
            for image in images {
                let removed = try store.removeImage(image)
                Terminal.print("removed \(removed.familiarName)")
            }
        }
    }
}

enum TableFormatter {
    static func print(_ rows: [[String]]) {
        guard let first = rows.first else { return }
        let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            Terminal.print(cells.joined())
        }
    }
}
