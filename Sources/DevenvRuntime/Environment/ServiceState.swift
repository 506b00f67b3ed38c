import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What a service's init writes to `NAME.state` beside the service's log each time the
/// service starts or exits (`ServiceSupervisor`): what `devenv up` waits on and `devenv ps`
/// shows. The file outlives the service, so a crash stays visible until the next start.
public struct ServiceState: Codable, Equatable, Sendable {
    public enum Phase: String, Codable, Sendable {
        case running
        /// Exited, to be started again after a pause (`restart = "on-failure"` or `"always"`).
        case restarting
        /// Exited for good, by itself: the policy does not start it again.
        case exited
        /// Ended by `devenv down`, or by the end of the session that started it.
        case stopped
    }

    public var phase: Phase
    /// How many times it was started again.
    public var restarts: Int
    /// How the last run ended (`exited 1`, `killed by signal 9`); nil before any exit.
    public var lastExit: String?
    /// The last run's exit code (128+N for signal N); nil before any exit.
    public var lastExitCode: Int32?
    /// Seconds since 1970 when `phase` began.
    public var since: Double
    /// Who the file is given to (not part of the state).
    var owner: ServiceSupervision.LogOwner?

    enum CodingKeys: String, CodingKey {
        case phase, restarts, lastExit, lastExitCode, since
    }

    init(phase: Phase, since: Double, owner: ServiceSupervision.LogOwner?) {
        self.init(phase: phase, since: since)
        self.owner = owner
    }

    public init(phase: Phase, restarts: Int = 0, lastExit: String? = nil, lastExitCode: Int32? = nil, since: Double) {
        self.phase = phase
        self.restarts = restarts
        self.lastExit = lastExit
        self.lastExitCode = lastExitCode
        self.since = since
    }

    public static func fileName(_ service: String) -> String { "\(service).state" }
    public static func logName(_ service: String) -> String { "\(service).log" }

    /// The state file of `service` in `directory`, if there is a readable one.
    public static func read(service: String, in directory: String) -> ServiceState? {
        guard let bytes = try? FileDescriptor.readRegularFileIfPresent("\(directory)/\(fileName(service))", limit: 1 << 16, flags: O_NOFOLLOW) else { return nil }
        return try? JSONDecoder().decode(ServiceState.self, from: Data(bytes))
    }

    /// Written whole under a temporary name and renamed, relative to the log directory's
    /// descriptor (the init that writes it lives inside the container's root).
    func write(service: String, directory: Int32) {
        guard let data = try? JSONEncoder().encode(self) else { return }
        let temporary = ".\(Self.fileName(service)).tmp"
        let descriptor = FileDescriptor.openRaw(in: directory, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
        guard descriptor >= 0 else { return }
        if let owner { fchown(descriptor, owner.uid, owner.gid) }
        let written = (try? FileDescriptor.writeAll(descriptor, [UInt8](data))) != nil
        close(descriptor)
        if written { renameat(directory, temporary, directory, Self.fileName(service)) }
    }
}
