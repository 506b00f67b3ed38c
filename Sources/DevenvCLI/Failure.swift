import ArgumentParser
import DevenvKit
import DevenvOCI

/// devenv's own exit codes, distinct from those of commands run inside an environment
/// (which pass through unchanged). Documented in README.md.
enum DevenvExit {
    /// devenv itself failed (bad input, store, archive or runtime setup error).
    static let failure: Int32 = 125
}

/// Runs a command body, turning any error into one clear `devenv: error:` line on stderr
/// and devenv's failure exit code.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Terminal.endProgress()
        Terminal.note("devenv: error: \(error)")
        throw ExitCode(DevenvExit.failure)
    }
}

extension GlobalOptions {
    func engine() throws -> Engine {
        try Engine(storeRoot: store)
    }
}
