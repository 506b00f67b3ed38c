import DevenvKit
import DevenvManifest
import DevenvOCI
import DevenvStore

/// The automatic store budget after a build or pull that wrote something (BuildKit's GC
/// policy): the user's `[store] max-size`, else the default. One line when it removed
/// something; a mistake in the config file is a warning, never a failed build.
enum StoreMaintenance {
    static func afterWrite(_ engine: Engine, keeping images: [Digest]) {
        let config: UserConfig
        do {
            config = try UserConfigFile.load()
        } catch let error as ManifestError {
            return Terminal.note("devenv: warning: the store budget is not applied: \(error.render())")
        } catch {
            return Terminal.note("devenv: warning: the store budget is not applied: \(error)")
        }
        do {
            guard let report = try StoreBudget(engine: engine).applyAutomatically(config: config, keeping: images) else { return }
            Terminal.note("store over its \(Terminal.bytes(report.budget ?? 0)) budget: \(GCCommand.evictionSummary(report)); \(Terminal.bytes(report.bytesFreed)) freed")
        } catch {
            Terminal.note("devenv: warning: the store budget could not be applied: \(error)")
        }
    }
}
