/// One step of an environment build, in the one vocabulary every front end lowers to (a
/// manifest's `[[step]]`s, a Dockerfile's instructions, a devcontainer.json's create
/// commands; a distro base is bootstrapped, not built by steps): what the step does to the image, and nothing about how it
/// was written. Its canonical encoding is part of the build cache key, so every field that
/// can change the result is here and nothing else is; changing the encoding or the meaning
/// of a field needs a new `CacheKey.version`.
public enum Step: Hashable, Sendable, Codable {
    /// Runs a command in a container on the image so far; what it changes is the layer.
    case run(RunStep)
    /// Places files into the image.
    case copy(CopyStep)
    /// Sets the working directory, optionally creating it.
    case workdir(WorkdirStep)
    /// Edits the run configuration (environment, user, labels, command, ...); no layer.
    case config([ConfigChange])
}

/// A working directory, relative to the current one (absolute paths replace it).
public struct WorkdirStep: Hashable, Sendable, Codable {
    public var path: String
    /// A Dockerfile's WORKDIR creates the directory, owned by the current user, when the
    /// image lacks it (a layer only then); a manifest's `workdir` only sets it.
    public var createsDirectory: Bool

    public init(path: String, createsDirectory: Bool) {
        self.path = path
        self.createsDirectory = createsDirectory
    }
}

public struct EnvironmentVariable: Hashable, Sendable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
