import ArgumentParser
import DevenvBuild
import DevenvKit
import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvStore

/// devenv's own exit codes. Commands run inside an environment pass their status through
/// unchanged; these codes are used only when devenv fails before or instead of running one.
/// Documented in README.md.
enum DevenvExit {
    /// A usage error: an unknown option, subcommand or task, an option that does not apply
    /// (ArgumentParser's own usage errors use the same code, EX_USAGE).
    static let usage: Int32 = 64
    /// The manifest or lock file is invalid.
    static let invalidManifest: Int32 = 65
    /// No project here, or a named image is not in the store.
    static let notFound: Int32 = 66
    /// `--frozen` and the lock file is missing or stale.
    static let staleLock: Int32 = 67
    /// A build step's command failed.
    static let buildStepFailed: Int32 = 68
    /// `devenv check` found damage in the store and did not repair it.
    static let storeDamaged: Int32 = 69
    /// Anything else devenv could not do (store, archive, runtime setup).
    static let failure: Int32 = 125

    static func code(for error: Error) -> Int32 {
        switch error {
        case let located as LocatedError: return code(for: located.underlying)
        case is ManifestError: return invalidManifest
        case is LockError: return staleLock
        case BuildError.stepFailed: return buildStepFailed
        // As a shell reports a command that a signal stopped.
        case let BuildError.interrupted(_, _, _, signal): return 128 + signal
        case KitError.projectNotFound, StoreError.imageNotFound: return notFound
        case KitError.noSuchTask, KitError.noTasks, KitError.notInProject: return usage
        default: return failure
        }
    }
}

/// Runs a command body, turning any error into a clear `devenv: error:` message on stderr
/// and one of devenv's exit codes.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as ManifestError {
        Terminal.error(error.render())
        throw ExitCode(DevenvExit.invalidManifest)
    } catch {
        Terminal.error("devenv: error: \(error)")
        throw ExitCode(DevenvExit.code(for: error))
    }
}

extension GlobalOptions {
    /// The store every command opens, and the one place that checks the host first: on a
    /// host where this user's devenv cannot map a user namespace (no user namespaces,
    /// subordinate ids or id-mapping helpers) a rootless store could be neither filled nor
    /// cleaned (its snapshots belong to subordinate ids), so the one error with its fix comes
    /// before the store is created or written, never a half-built store.
    func engine() throws -> Engine {
        try RootlessSupport.require()
        return try Engine(storeRoot: store)
    }
}
