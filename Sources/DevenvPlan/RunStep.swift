/// A command run as the image's current user, in its working directory and environment,
/// on an overlay of the image so far.
public struct RunStep: Hashable, Sendable, Codable {
    /// The argv. A front end's shell form is already wrapped in its shell (`/bin/sh -c …`).
    public var command: [String]
    /// Values added to the environment for this command only, where the image's own does not
    /// set the name (a Dockerfile's build arguments in scope; none is kept in the image).
    public var arguments: [EnvironmentVariable]
    /// Directories kept between builds of the project, outside the layer.
    public var cacheMounts: [CacheMount]
    /// Where the project directory is mounted read-write, if the command needs the working
    /// tree (devcontainer.json's create commands); its files are not inputs of the step.
    public var projectMount: String?
    public var network: BuildNetwork
    /// Secrets and SSH agents the command may use while it runs; nil when it uses none, so
    /// the cache keys of the steps without any stay what they were.
    public var secrets: [SecretMount]?
    /// A `packages` step's layers, one per package; nil for one layer (every other step), so
    /// their cache keys stay what they were.
    public var packageLayers: PackageLayers?

    public init(command: [String], arguments: [EnvironmentVariable] = [], cacheMounts: [CacheMount] = [],
                projectMount: String? = nil, network: BuildNetwork = .host, secrets: [SecretMount] = [],
                packageLayers: PackageLayers? = nil) {
        self.command = command
        self.arguments = arguments
        self.cacheMounts = cacheMounts
        self.projectMount = projectMount
        self.network = network
        self.secrets = secrets.isEmpty ? nil : secrets
        self.packageLayers = packageLayers
    }
}

/// A cache directory mounted at `target` for a run step (`RUN --mount=type=cache`, a
/// manifest's `cache = [...]`, the package manager's download cache).
public struct CacheMount: Hashable, Sendable, Codable {
    /// Absolute path in the container.
    public var target: String
    /// The cache's identity: steps naming the same id share one directory. Defaults to the target.
    public var id: String
    /// Owner and permission bits of the directory when it is created.
    public var uid: UInt32?
    public var gid: UInt32?
    public var mode: UInt32?

    public init(target: String, id: String? = nil, uid: UInt32? = nil, gid: UInt32? = nil, mode: UInt32? = nil) {
        self.target = target
        self.id = id ?? target
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

public enum BuildNetwork: String, Hashable, Sendable, Codable {
    case host, none
}

extension RunStep {
    /// `word` as one POSIX shell word, for scripts front ends generate around user commands.
    public static func shellQuote(_ word: String) -> String {
        "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
