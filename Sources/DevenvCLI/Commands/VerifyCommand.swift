import ArgumentParser
import DevenvKit
import DevenvOCI
import DevenvSystem
import Foundation

/// `devenv verify`: rebuild the locked environment in a scratch store and compare digests.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Rebuild the locked environment from nothing in a scratch store and report every layer whose digest differs.",
        discussion: "Exit status 0 when every layer and the image configuration are identical, 1 when any differs, 67 without a current lock."
    )

    @OptionGroup var global: GlobalOptions

    @OptionGroup var display: ProgressOptions

    func run() throws {
        display.apply()
        var reproducible = true
        try reportingErrors {
            let engine = try global.engine()
            engine.notes = { Terminal.note("devenv: note: \($0)") }
            guard case let .manifest(project) = try ProjectLocator.load(from: try HostPath.currentDirectory()) else {
                throw KitError.unsupported(command: "devenv verify", project: ".devcontainer/devcontainer.json", what: "a devcontainer.json project",
                                           hint: "it has no lock to rebuild from")
            }
            var build = ProjectBuild(engine: engine, project: project)
            DistroProgress.configure(&build)
            let progress = BuildProgress(explain: false)
            let scratch = "\(engine.store.layout.root)/verify-\(UUID().uuidString)"
            let report = try build.verify(scratchRoot: scratch) { store in progress.executor(RuntimeStepExecutor(store: store)) }
            for layer in report.layers {
                let name = layer.createdBy.isEmpty ? "" : " \(Printable.escape(layer.createdBy, limit: 80))"
                if layer.matches {
                    Terminal.print("layer \(layer.number)/\(report.layers.count)\(name): identical \(layer.recorded?.description ?? "")")
                } else {
                    Terminal.print("layer \(layer.number)/\(report.layers.count)\(name): DIFFERS: recorded \(layer.recorded?.description ?? "none"), rebuilt \(layer.rebuilt?.description ?? "none")")
                }
            }
            let config = report.recordedConfig == report.rebuiltConfig ? "identical \(report.recordedConfig)"
                : "DIFFERS: recorded \(report.recordedConfig), rebuilt \(report.rebuiltConfig)"
            Terminal.print("config: \(config)")
            reproducible = report.isReproducible
            Terminal.print(reproducible ? "\(report.image) is reproducible" : "\(report.image) is not reproducible: \(report.differing.count) layer(s) differ")
        }
        if !reproducible { throw ExitCode(1) }
    }
}
