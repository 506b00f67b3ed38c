import ArgumentParser
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download an image from a registry into the store (verified), and unpack its layers.",
        discussion: "Registries, mirrors and plain-HTTP rules: docs/registry.md. Credentials: `devenv login`."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image reference (NAME[:TAG] or NAME@DIGEST; `debian` means docker.io/library/debian:latest).")
    var reference: String

    @Option(help: ArgumentHelp("The platform to choose from a multi-platform image.", valueName: "OS/ARCH[/VARIANT]"))
    var platform: String?

    @Flag(help: "Only store the blobs; unpack when the image is first used.")
    var noUnpack = false

    @OptionGroup var display: ProgressOptions

    func run() throws {
        display.apply()
        try reportingErrors {
            let reference = try Reference(parsing: reference)
            let selected = try platform.map(Self.parsePlatform) ?? .host
            let engine = try global.engine()
            let client = try engine.registry()
            let view = TransferView(direction: .pull)
            let image = try client.pull(reference, into: engine.store, platform: selected, unpack: !noUnpack, progress: view.handle)
            view.finish()
            if !noUnpack {
                _ = try engine.store.mount(image, progress: Unpacking.report)
                Terminal.endProgress()
            }
            StoreMaintenance.afterWrite(engine, keeping: [image.manifestDescriptor.digest])
            Terminal.print("\(image.familiarName) \(image.manifestDescriptor.digest)")
        }
    }

    static func parsePlatform(_ text: String) throws -> Platform {
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--platform must be OS/ARCH or OS/ARCH/VARIANT, e.g. linux/arm64")
        }
        return Platform(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }
}

/// Hands a pull's or push's transfer events to the progress display; `finish` collapses the
/// per-layer lines into a summary.
struct TransferView {
    let direction: ProgressEvent.Direction

    var handle: TransferProgress { { [direction] event in ProgressDisplay.shared.emit(.transfer(direction, event)) } }

    func finish() { ProgressDisplay.shared.emit(.transfersEnded(direction)) }
}
