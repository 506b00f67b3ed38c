extension Manifest {
    /// `[shell]`: how `devenv shell` and `devenv run` start the environment.
    public struct Shell: Equatable, Sendable {
        public static let defaultMountPoint = "/workspace"

        /// Where the working tree is mounted; nil means `defaultMountPoint`.
        public var mount: Located<String>?
        /// The initial directory; nil means the mount point.
        public var workdir: Located<String>?
        /// Absolute path of the interactive shell; nil lets the Kit layer choose.
        public var shell: Located<String>?
        public var env: [EnvironmentVariable]
        public var network: Network?
        public var mounts: [Mount]
        /// `env_file`: a docker-format env file relative to the project root, read at each
        /// session start (below `env`, above the image's environment).
        public var envFile: Located<String>?
        /// `ssh_agent`: bind the host's `$SSH_AUTH_SOCK` in (default true).
        public var sshAgent: Bool
        /// `git_identity`: the host user's git name and email, and safe.directory, inside (default true).
        public var gitIdentity: Bool
        /// `services`: started (with their dependencies) before `devenv shell` and `devenv run`.
        public var services: [Located<String>] = []
        /// `devices`: what `--device` adds, for every session: a host device node
        /// (`/dev/HOST[:/dev/CONTAINER][:rwm]`) or a CDI name (`vendor.com/class=name`).
        public var devices: [Located<String>] = []
        /// `dotfiles`: host files and directories under `~`, bound read-only at the same place
        /// under the container user's home.
        public var dotfiles: [Dotfile] = []
        /// `home`: whether `$HOME` starts empty each environment or is kept in the store.
        public var home: Home = .ephemeral
        /// The `[shell]` table, or nil when the manifest has none.
        public var location: SourceLocation?

        public init(mount: Located<String>? = nil, workdir: Located<String>? = nil, shell: Located<String>? = nil,
                    env: [EnvironmentVariable] = [], network: Network? = nil, mounts: [Mount] = [], envFile: Located<String>? = nil,
                    sshAgent: Bool = true, gitIdentity: Bool = true, location: SourceLocation? = nil) {
            self.mount = mount
            self.workdir = workdir
            self.shell = shell
            self.env = env
            self.network = network
            self.mounts = mounts
            self.envFile = envFile
            self.sshAgent = sshAgent
            self.gitIdentity = gitIdentity
            self.location = location
        }

        public var mountPoint: String { mount?.value ?? Self.defaultMountPoint }
        public var workingDirectory: String { workdir?.value ?? mountPoint }
    }

    /// `[shell] home`.
    public enum Home: String, Equatable, Sendable, CaseIterable {
        /// In the environment's temporary upper layer: gone when the environment ends.
        case ephemeral
        /// A directory of the project's state in the store, bound at `$HOME`: kept across
        /// environments, one per container user.
        case persistent
    }

    /// One `[shell] dotfiles` entry: `~/REST` as written, with `REST` normalized (no empty or
    /// `.` components; `..` is refused), the same path below the host's home and the
    /// container user's.
    public struct Dotfile: Equatable, Sendable {
        public var relativePath: String
        public var written: Located<String>
        /// `{ path = "~/…", writable = true }`: bound read-write (a credential store its
        /// tool rewrites); read-only otherwise.
        public var writable: Bool

        public init(relativePath: String, written: Located<String>, writable: Bool = false) {
            self.relativePath = relativePath
            self.written = written
            self.writable = writable
        }
    }

    /// An extra bind mount into the shell: `host:container[:ro]`.
    public struct Mount: Equatable, Sendable {
        public var source: HostPath
        /// Absolute path in the container.
        public var target: String
        public var readOnly: Bool
        public var location: SourceLocation

        public init(source: HostPath, target: String, readOnly: Bool, location: SourceLocation) {
            self.source = source
            self.target = target
            self.readOnly = readOnly
            self.location = location
        }
    }

    /// A host path as written: absolute, or relative to the user's home (`~`, `~/x`).
    /// Expanding `~` needs the environment, so the Kit layer does it.
    public enum HostPath: Equatable, Sendable, CustomStringConvertible {
        case absolute(String)
        /// The part after `~/`; empty for `~` itself.
        case home(String)

        public var description: String {
            switch self {
            case let .absolute(path): return path
            case let .home(rest): return rest.isEmpty ? "~" : "~/" + rest
            }
        }
    }
}
