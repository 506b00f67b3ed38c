extension Manifest {
    /// `[services.NAME]`: a long-running process next to the shell (a database, a cache),
    /// started by `devenv up` or by the tasks that need it. It runs in its own container on
    /// the project's network (docs/services.md).
    public struct Service: Equatable, Sendable {
        /// When the supervisor starts the command again after it exits (never after `down`).
        public enum Restart: String, Equatable, Sendable, CaseIterable {
            case no
            case onFailure = "on-failure"
            /// After every exit, a clean one (status 0) too, as compose's and podman's `always`.
            case always
        }

        public var name: String
        /// nil: the project's environment image, with the working tree mounted as in the shell.
        public var image: Located<String>?
        /// nil only with `image`: the image's own entrypoint and command.
        public var command: Located<Command>?
        public var env: [EnvironmentVariable]
        /// TCP ports it listens on (loopback): documentation, the port check before start, and
        /// readiness when there is no `ready` command.
        public var ports: [Located<Int>]
        public var volumes: [ServiceVolume]
        public var dependsOn: [Located<String>]
        /// Run inside the service's container until it exits 0.
        public var ready: Located<Command>?
        public var readyTimeout: Int
        public var restart: Restart
        /// Absolute container directory; nil: the working tree (environment image) or the image's.
        public var workdir: Located<String>?
        public var location: SourceLocation

        public static let defaultReadyTimeout = 60

        public init(name: String, image: Located<String>? = nil, command: Located<Command>? = nil, env: [EnvironmentVariable] = [],
                    ports: [Located<Int>] = [], volumes: [ServiceVolume] = [], dependsOn: [Located<String>] = [],
                    ready: Located<Command>? = nil, readyTimeout: Int = Self.defaultReadyTimeout, restart: Restart = .no,
                    workdir: Located<String>? = nil, location: SourceLocation) {
            self.name = name
            self.image = image
            self.command = command
            self.env = env
            self.ports = ports
            self.volumes = volumes
            self.dependsOn = dependsOn
            self.ready = ready
            self.readyTimeout = readyTimeout
            self.restart = restart
            self.workdir = workdir
            self.location = location
        }
    }

    /// `NAME:/path[:ro]` (a named volume kept under the store per project, removed only by
    /// `devenv down --volumes`) or `./dir:/path[:ro]` (a directory of the working tree).
    public struct ServiceVolume: Equatable, Sendable {
        public enum Source: Equatable, Sendable {
            case named(String)
            /// Relative to the project directory, without `..`.
            case workingTree(String)
        }

        public var source: Source
        public var target: String
        public var readOnly: Bool
        public var location: SourceLocation

        public init(source: Source, target: String, readOnly: Bool, location: SourceLocation) {
            self.source = source
            self.target = target
            self.readOnly = readOnly
            self.location = location
        }
    }

    /// The service named `name`, if the manifest defines it.
    public func service(named name: String) -> Service? {
        services.first { $0.name == name }
    }

    /// `names` and everything they depend on, dependencies first (the manifest has no cycles).
    public func servicesStartOrder(_ names: [String]? = nil) -> [Service] {
        var ordered: [Service] = []
        var seen: Set<String> = []
        func visit(_ name: String) {
            guard !seen.contains(name), let service = service(named: name) else { return }
            seen.insert(name)
            for dependency in service.dependsOn { visit(dependency.value) }
            ordered.append(service)
        }
        for name in names ?? services.map(\.name) { visit(name) }
        return ordered
    }
}
