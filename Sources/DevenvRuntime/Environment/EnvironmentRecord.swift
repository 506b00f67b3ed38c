import FoundationEssentials

/// What devenv keeps about a running environment (`<name>.json` in its `EnvironmentDirectory`):
/// who its init is (a `ProcessStamp`, so a dead or rebooted one is never joined), what it
/// runs, and its cgroup. Sessions join it; `devenv ps` lists it. New sections (the
/// environment's services, with their processes and roles) are added as optional fields, so
/// older records still decode.
public struct EnvironmentRecord: Codable, Equatable, Sendable {
    public static let version = 1

    public var version = Self.version
    public var name: String
    /// What started it, for `devenv ps`: the project's directory and image.
    public var project: String
    public var image: String
    /// The image's manifest digest: a session on a rebuilt image is told it joins the old one.
    public var imageDigest: String
    /// Seconds since 1970.
    public var started: Double
    public var initProcess: ProcessStamp
    /// Kept when its last session exits (`--detach`); ended only by `devenv stop`.
    public var detached: Bool
    /// The environment's cgroup directories (empty without limits); sessions start inside.
    public var cgroups: [String] = []
    /// What the starting session's spec gave the whole environment.
    public var settings: EnvironmentSettings?
    /// Set when the container is a service's (`ServiceOptions`).
    public var service: ServiceRecord?
    /// Files init held (its store lease), removed with the record once init is gone, so
    /// every start does not leave them behind until a gc.
    public var heldFiles: [String]?

    public init(name: String, project: String, image: String, imageDigest: String, started: Double,
                initProcess: ProcessStamp, detached: Bool, cgroups: [String] = [], settings: EnvironmentSettings? = nil) {
        self.name = name
        self.project = project
        self.image = image
        self.imageDigest = imageDigest
        self.started = started
        self.initProcess = initProcess
        self.detached = detached
        self.cgroups = cgroups
        self.settings = settings
    }
}

/// What a session asks for: which environment and, when it has to start one, what to call its image.
public struct EnvironmentRequest: Codable, Equatable, Sendable {
    public var name: String
    public var project: String
    public var image: String
    public var imageDigest: String
    public var detached: Bool
    /// Set from the session's spec when it enters (`EnvironmentExecution`).
    public var settings: EnvironmentSettings?
    public var service: ServiceRecord?

    public init(name: String, project: String, image: String, imageDigest: String, detached: Bool = false) {
        self.name = name
        self.project = project
        self.image = image
        self.imageDigest = imageDigest
        self.detached = detached
    }

    /// `default` unless the user names one; a name is a file name in the records' directory.
    public static let defaultName = "default"

    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.first != "." && name.first != "-"
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e }
    }
}

/// What a service's record adds: what it was started from (a changed definition or image is
/// started again by `devenv up`) and where it listens.
public struct ServiceRecord: Codable, Equatable, Sendable {
    /// A digest of the service's definition and image.
    public var fingerprint: String
    public var ports: [Int]
    /// When it last passed its readiness check (seconds since 1970).
    public var ready: Double?

    public init(fingerprint: String, ports: [Int], ready: Double? = nil) {
        self.fingerprint = fingerprint
        self.ports = ports
        self.ready = ready
    }
}
