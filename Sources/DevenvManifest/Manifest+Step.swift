extension Manifest {
    /// One `[[step]]`: exactly one action, applied in order on top of the base image.
    public struct Step: Equatable, Sendable {
        public enum Action: Equatable, Sendable {
            case run(Run)
            case copy(Copy)
            case env([EnvironmentVariable])
            case workdir(Located<String>)
            case user(Located<User>)
            case packages([Located<String>])

            /// The manifest key that selects this action.
            public var key: String {
                switch self {
                case .run: return "run"
                case .copy: return "copy"
                case .env: return "env"
                case .workdir: return "workdir"
                case .user: return "user"
                case .packages: return "packages"
                }
            }
        }

        /// `run = ...` with its optional cache mounts and network mode.
        public struct Run: Equatable, Sendable {
            public var command: Located<Command>
            /// Absolute container paths kept between builds (e.g. `/var/cache/apt`).
            public var cache: [Located<String>]
            /// nil means the builder's default.
            public var network: Network?
            /// Host files the command reads while it runs, never kept in the image.
            public var secrets: [Secret] = []

            public init(command: Located<Command>, cache: [Located<String>] = [], network: Network? = nil) {
                self.command = command
                self.cache = cache
                self.network = network
            }
        }

        /// `secrets = ["id=ID,src=FILE[,target=PATH][,env=VAR][,uid=N][,gid=N][,mode=0NNN]"]`: a
        /// host file the step sees at `target` (default /run/secrets/ID) and/or as the variable
        /// `env` while it runs; its file the step user's and 0400 unless uid, gid, mode say otherwise.
        public struct Secret: Equatable, Sendable {
            public var id: String
            public var source: HostPath
            public var target: String?
            public var environmentName: String?
            public var location: SourceLocation
            public var uid: UInt32?
            public var gid: UInt32?
            public var mode: UInt32?

            public init(id: String, source: HostPath, target: String?, environmentName: String?, location: SourceLocation) {
                self.id = id
                self.source = source
                self.target = target
                self.environmentName = environmentName
                self.location = location
            }
        }

        /// `copy = [...]` from the project directory, optionally `to` an absolute path.
        public struct Copy: Equatable, Sendable {
            /// Paths relative to the project directory, without `..` components.
            public var sources: [Located<String>]
            /// nil means the working directory in effect at this step.
            public var destination: Located<String>?

            public init(sources: [Located<String>], destination: Located<String>? = nil) {
                self.sources = sources
                self.destination = destination
            }
        }

        /// 1-based, as build output numbers steps.
        public var number: Int
        /// Where the step starts (`[[step]]`, or `{` in an inline array).
        public var location: SourceLocation
        public var action: Action
        /// `layers = N` of a `packages` step: the most layers it makes; nil for the default.
        public var layers: Located<Int>?

        public init(number: Int, location: SourceLocation, action: Action, layers: Located<Int>? = nil) {
            self.number = number
            self.location = location
            self.action = action
            self.layers = layers
        }
    }
}
