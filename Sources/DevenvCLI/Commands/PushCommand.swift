import ArgumentParser
import DevenvOCI
import DevenvRegistry
import DevenvStore

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload an image from the store to a registry.",
        discussion: "Blobs the registry already has are skipped; blobs pulled from another repository of the same registry are mounted."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image in the store (name, digest or id).")
    var image: String

    @Argument(help: "Where to push it (REGISTRY/REPOSITORY[:TAG]); defaults to the image's name.")
    var destination: String?

    @OptionGroup var display: ProgressOptions

    func run() throws {
        display.apply()
        try reportingErrors {
            let engine = try global.engine()
            let stored = try engine.store.image(image)
            let reference = try Reference(parsing: destination ?? stored.name)
            let client = try engine.registry()
            let view = TransferView(direction: .push)
            let digest = try client.push(stored, from: engine.store, to: reference, progress: view.handle)
            view.finish()
            Terminal.print("\(reference.familiar) \(digest)")
        }
    }
}
