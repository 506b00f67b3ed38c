import DevenvGit
import DevenvManifest
import DevenvRuntime
import DevenvSystem
import Foundation

/// What one `devenv run` or `devenv shell` is, decided by `SessionPlanner.plan`: which kind of
/// session, which image, and the container to start. A value, so tests read it without
/// privileges; the runtime sees only `spec`.
public struct SessionPlan: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A `.devenv/devenv.toml` project.
        case manifest
        /// A project adopted from its devcontainer.json.
        case devContainer
        /// `--image NAME`: an image as it is, with the current directory mounted.
        case image
        /// `--rootfs DIR`: a root filesystem directory.
        case rootfs
    }

    public var kind: Kind
    /// The image the container runs (empty for `--rootfs`).
    public var image: String
    public var spec: ContainerSpec
    /// Warnings for the user before the session starts (`FILE:LINE:COLUMN: warning: …`).
    /// A project session's warm record replays them, so each may depend only on what the
    /// record checks (the image, the host identity, the paths `WarmInputs` watches).
    public var warnings: [String] = []
    /// Store directories the spec binds (a persistent home): a warm start needs them present.
    public var storePaths: [String] = []
}

/// The facts about the invoking user and process a plan depends on, read once.
public struct SessionHost: Sendable, Equatable {
    public var identity: HostIdentity
    /// The directory devenv was started in; nil when it cannot be resolved (an error only for
    /// a project session, which looks for the project there).
    public var currentDirectory: String?
    /// Where `~` in `[shell] mounts` starts; nil when no home directory is known (an error
    /// only for a manifest that mounts from `~`).
    public var home: String?
    /// The environment `-e KEY` and `$TERM` come from.
    public var environment: [String: String]
    /// The host user's git `user.name`/`user.email`; nil when git has neither.
    public var git: GitUserIdentity?

    public init(identity: HostIdentity, currentDirectory: String?, home: String?, environment: [String: String], git: GitUserIdentity? = nil) {
        self.identity = identity
        self.currentDirectory = currentDirectory
        self.home = home
        self.environment = environment
        self.git = git
    }

    /// An unreadable git configuration leaves git's identity out rather than stopping the shell.
    public static func current() -> SessionHost {
        let environment = ProcessInfo.processInfo.environment
        return SessionHost(identity: HostIdentity.current(), currentDirectory: try? HostPath.currentDirectory(),
                           home: try? HostPath.home(environment: environment), environment: environment,
                           git: (try? GitUserIdentity.configured()) ?? nil)
    }
}

/// A task chosen with `devenv run NAME [ARGS…]`.
public struct SessionTask: Sendable, Equatable {
    public var task: Manifest.Task
    /// The words after the task name.
    public var arguments: [String]

    public init(task: Manifest.Task, arguments: [String]) {
        self.task = task
        self.arguments = arguments
    }
}
