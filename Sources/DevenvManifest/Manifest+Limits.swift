extension Manifest {
    /// `[limits]`: resource limits for `devenv shell` and `devenv run` (the command line's
    /// `--memory`, `--pids`, `--cpus`, `--shm-size` override them). Values stay as written
    /// (`"4g"`, `4096`, `1.5`, `"max"`); the runtime's `ResourceLimits` parses them, and the
    /// Kit layer reports a bad one at its location.
    public struct Limits: Equatable, Sendable {
        public var memory: Located<String>?
        public var pids: Located<String>?
        public var cpus: Located<String>?
        public var shmSize: Located<String>?

        public init(memory: Located<String>? = nil, pids: Located<String>? = nil, cpus: Located<String>? = nil, shmSize: Located<String>? = nil) {
            self.memory = memory
            self.pids = pids
            self.cpus = cpus
            self.shmSize = shmSize
        }

        public var isEmpty: Bool { memory == nil && pids == nil && cpus == nil && shmSize == nil }
    }
}
