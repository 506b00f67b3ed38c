import DevenvRuntime
import DevenvStore
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

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
        var request = request
        request.settings = EnvironmentSettings(spec)
        do {
            let start: (() throws -> StartedContainer)? = mode == .joinOnly ? nil : { try Self.start(spec, runner: runner, lease: lease) }
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

    /// Starts the environment with a lease of its own that its init holds, since it may
    /// outlive this session and its lease.
    static func start(_ spec: ContainerSpec, runner: ContainerRunner, lease: Lease?) throws -> StartedContainer {
        let held = try lease.map { try $0.handOff() }
        defer { if let held { close(held.descriptor) } }
        var started = try runner.start(spec, holding: held.map { [$0.descriptor] } ?? [])
        started.heldFiles = held?.files ?? []
        return started
    }

    /// Said when a session joins an environment that is not what it would have started: the
    /// image was rebuilt since, or its mounts, hostname, network or limits differ (pure).
    public static func rebuiltNotice(_ record: EnvironmentRecord, request: EnvironmentRequest) -> String? {
        let name = record.name == EnvironmentRequest.defaultName ? "" : " \(record.name)"
        let hint = "hint: `devenv stop\(name)` ends it; the next session then starts as this one asks"
        if record.imageDigest != request.imageDigest {
            return """
                devenv: note: joining environment '\(record.name)', which runs the image it started with (\(record.imageDigest)); \
                the project's image is now \(request.imageDigest)
                \(hint)
                """
        }
        if let settings = request.settings, let running = record.settings, settings != running {
            return """
                devenv: note: joining environment '\(record.name)' with the mounts, hostname, network and limits it started with, \
                which differ from this session's
                \(hint)
                """
        }
        return nil
    }
}

/// Exit codes of the environment commands (README.md).
public enum EnvironmentExit {
    /// `exec` or `stop` found no running environment of that name.
    public static let notRunning: Int32 = 1
}
