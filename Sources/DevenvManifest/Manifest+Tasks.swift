extension Manifest {
    /// A named command for `devenv run NAME`.
    public struct Task: Equatable, Sendable {
        public var name: String
        public var command: Located<Command>
        /// Absolute container directory; nil means the shell's working directory.
        public var workdir: Located<String>?
        public var env: [EnvironmentVariable]
        /// What `devenv tasks` says about the task.
        public var description: String?
        /// `services`: started (with their dependencies) before the task runs.
        public var services: [Located<String>] = []
        public var location: SourceLocation

        public init(name: String, command: Located<Command>, workdir: Located<String>? = nil, env: [EnvironmentVariable] = [], location: SourceLocation) {
            self.name = name
            self.command = command
            self.workdir = workdir
            self.env = env
            self.location = location
        }
    }

    /// `[cache]`: where built layers are shared.
    public struct Cache: Equatable, Sendable {
        /// A registry repository such as `registry.example.com/team/env`, checked only
        /// syntactically here.
        public var registry: Located<String>
        public var location: SourceLocation

        public init(registry: Located<String>, location: SourceLocation) {
            self.registry = registry
            self.location = location
        }
    }
}
