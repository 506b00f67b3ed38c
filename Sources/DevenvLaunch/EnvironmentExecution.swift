import DevenvRuntime
import DevenvStore
import DevenvSystem
import FoundationEssentials

/// A project session in the project's running environment: joins it, or starts it first, and
/// runs the spec's process there; the last session out ends it (docs/daily-use.md).
public enum EnvironmentExecution {
    public enum Mode: Sendable {
        /// `shell`, `run`: start the environment when none runs.
        case startOrJoin
        /// `exec`: only join; without a running environment nothing starts.
        case joinOnly
    }

    /// The command's status as `SessionExecution.run` gives it; 125 with a message when the
    /// environment could not be started or joined.
    public static func run(_ spec: ContainerSpec, in directory: EnvironmentDirectory, request: EnvironmentRequest,
                           mode: Mode = .startOrJoin, keeping lease: Lease?) -> Int32 {
        defer { withExtendedLifetime(lease) {} }
        let runner = ContainerRunner()
        do {
            let start: (() throws -> StartedContainer)? = mode == .joinOnly ? nil : { try runner.start(spec) }
            guard let session = try directory.enter(request, start: start) else {
                SessionExecution.note("devenv: error: no environment '\(request.name)' is running for this project\nhint: start one with `devenv shell` (or `devenv shell --detach`)")
                return EnvironmentExit.notRunning
            }
            defer { session.leave() }
            if let notice = rebuiltNotice(session.record, request: request) { SessionExecution.note(notice) }
            return try runner.join(session.container, spec: spec).shellCode
        } catch let error as RuntimeError {
            SessionExecution.note("devenv: error: \(error)")
            return error.exitCode
        } catch {
            SessionExecution.note("devenv: error: \(error)")
            return RuntimeExitCode.setupFailed
        }
    }

    /// Said when the running environment's image is not the project's current one (pure).
    public static func rebuiltNotice(_ record: EnvironmentRecord, request: EnvironmentRequest) -> String? {
        guard record.imageDigest != request.imageDigest else { return nil }
        let name = record.name == EnvironmentRequest.defaultName ? "" : " \(record.name)"
        return """
            devenv: note: joining environment '\(record.name)', which runs the image it started with (\(record.imageDigest)); \
            the project's image is now \(request.imageDigest)
            hint: `devenv stop\(name)` ends it; the next session then starts on the new image
            """
    }
}

/// Exit codes of the environment commands (README.md).
public enum EnvironmentExit {
    /// `exec` or `stop` found no running environment of that name.
    public static let notRunning: Int32 = 1
}
