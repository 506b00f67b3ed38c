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

    func run() throws {
        try reportingErrors {
            let reference = try Reference(parsing: reference)
            let selected = try platform.map(Self.parsePlatform) ?? .host
            let engine = try global.engine()
            let client = try engine.registry()
            let view = TransferView(verb: "pull")
            let image = try client.pull(reference, into: engine.store, platform: selected, unpack: !noUnpack, progress: view.handle)
            view.finish()
            if !noUnpack {
                Terminal.progress("unpacking \(image.manifest.layers.count) layer(s)")
                _ = try engine.store.mount(image) { index, count, layer in
                    Terminal.progress("unpacking layer \(index + 1)/\(count) \(layer.digest.short)")
                }
                Terminal.endProgress()
            }
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

/// Per-blob progress lines on a terminal (stderr), redrawn in place at most ten times a
/// second; silent when stderr is not a terminal. Events come from several threads.
final class TransferView: @unchecked Sendable {
    private enum State {
        case waiting, sharing, active(Int64), retrying(Int), done, present, mounted(String)
    }

    private let verb: String
    private let enabled = Terminal.stderrIsTerminal
    private let lock = NSLock()
    private var order: [Descriptor] = []
    private var states: [Digest: State] = [:]
    private var drawnLines = 0
    private var lastDraw = Date.distantPast

    init(verb: String) { self.verb = verb }

    var handle: TransferProgress { { [self] event in update(event) } }

    private func update(_ event: TransferEvent) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        var force = false
        switch event {
        case let .resolved(_, blobs):
            var seen = Set<Digest>()
            order = blobs.filter { seen.insert($0.digest).inserted }
            for blob in order where states[blob.digest] == nil { states[blob.digest] = .waiting }
            force = true
        case let .sharing(blob):
            states[blob.digest] = .sharing
            force = true
        case let .started(blob):
            states[blob.digest] = .active(0)
        case let .progress(blob, completed):
            states[blob.digest] = .active(completed)
        case let .retrying(blob, attempt, _):
            states[blob.digest] = .retrying(attempt)
            force = true
        case let .skipped(blob, how):
            if case let .mounted(from) = how { states[blob.digest] = .mounted(from) } else { states[blob.digest] = .present }
            force = true
        case let .finished(blob):
            states[blob.digest] = .done
            force = true
        }
        if force || Date().timeIntervalSince(lastDraw) > 0.1 { draw() }
    }

    /// Draws the final state and leaves the lines on screen.
    func finish() {
        guard enabled else { return }
        lock.lock()
        draw()
        lock.unlock()
    }

    private func draw() {
        lastDraw = Date()
        var text = drawnLines > 0 ? "\u{1b}[\(drawnLines)A" : ""
        for blob in order {
            text += "\r\u{1b}[2K" + line(for: blob) + "\n"
        }
        drawnLines = order.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func line(for blob: Descriptor) -> String {
        let name = "\(blob.digest.short) \(Terminal.bytes(blob.size))"
        switch states[blob.digest] ?? .waiting {
        case .waiting:
            return "\(name)  waiting"
        case .sharing:
            return "\(name)  another devenv is downloading it; waiting"
        case let .active(completed):
            let fraction = blob.size > 0 ? min(1, Double(completed) / Double(blob.size)) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            return "\(name)  [\(String(repeating: "=", count: filled))\(String(repeating: " ", count: width - filled))] \(Int(fraction * 100))%"
        case let .retrying(attempt):
            return "\(name)  retrying (attempt \(attempt))"
        case .done:
            return "\(name)  \(verb == "pull" ? "verified" : "pushed")"
        case .present:
            return "\(name)  \(verb == "pull" ? "already in the store" : "already in the registry")"
        case let .mounted(from):
            return "\(name)  mounted from \(Printable.escape(from))"
        }
    }
}
