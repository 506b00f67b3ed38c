/// When a service's init starts its command again after it exits (`restart` in the
/// manifest). Both restarting policies share the supervisor's pause, which doubles after each
/// short run, and neither has a cap: like compose's and podman's `always` and `on-failure`
/// without a count, a service is given up on only by `devenv down`, never by the supervisor.
public enum ServiceRestart: String, Codable, Sendable {
    case never
    /// After an exit with a non-zero status or by a signal.
    case onFailure
    /// After every exit, a clean one (status 0) too.
    case always

    /// Whether a run that ended with `exit` is followed by another (unless the service is
    /// being stopped, which the supervisor decides first).
    func restarts(after exit: ExitStatus) -> Bool {
        switch self {
        case .never: false
        case .onFailure: exit != .exited(0)
        case .always: true
        }
    }
}
