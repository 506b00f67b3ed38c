import DevenvKit
import DevenvOCI
import Foundation

/// How a distro base bootstrap shows itself: mmdebstrap's own output when stderr is a
/// terminal (it takes a minute or more, and the user should see it move), else one line
/// when it is done, so logs stay short. A cached base prints nothing.
enum DistroProgress {
    static func configure(_ build: inout ProjectBuild) {
        build.bootstrapOutput = ProgressDisplay.shared.showsLiveOutput ? .passthrough : .log
        build.bootstrapEvents = report
    }

    static func report(_ event: DistroBootstrapEvent) {
        switch event {
        case let .waiting(base):
            Terminal.note("waiting for another devenv to bootstrap \(base.name)…")
        case let .started(base, log):
            guard log == nil else { return }
            Terminal.endProgress()
            Terminal.note("bootstrapping \(base.name) (\(base.variant)) from \(Printable.escape(base.mirror)) with mmdebstrap…")
        case let .finished(base, image, seconds):
            let layers = image.manifest.layers
            let size = layers.reduce(Int64(0)) { $0 + $1.size }
            Terminal.note(String(format: "bootstrapped %@ (%@) from %@ in %.1fs: %@, %@ in %d layer%@", base.name, base.variant,
                                 Printable.escape(base.mirror), seconds, image.familiarName, Terminal.bytes(size), layers.count,
                                 layers.count == 1 ? "" : "s"))
        }
    }
}
