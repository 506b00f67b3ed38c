import DevenvOCI

/// One step of an environment build, as the builder sees it: no TOML, no git, only what
/// the step does. Its canonical encoding is part of the cache key, so every field that can
/// change the result is here and nothing else is.
public enum BuildStep: Hashable, Sendable, Codable {
    /// Runs `command` (an argv) as container root; `cacheMounts` persist between builds of
    /// the project without entering the layer.
    case run(command: [String], cacheMounts: [String], network: BuildNetwork)
    /// Copies project files (listed as inputs) to `destination`.
    case copy(sources: [String], destination: String)
    /// Sets environment variables, in order (a later value may reference an earlier one).
    case env([EnvironmentVariable])
    case workdir(String)
    case user(String)
    /// A Dockerfile RUN: `run` with the build arguments in scope added to the environment
    /// (arguments the image's own environment sets are left to it; none is kept in the image).
    case runWithArguments(command: [String], arguments: [EnvironmentVariable], cacheMounts: [String], network: BuildNetwork)
    /// A Dockerfile COPY or ADD (see `FileCopy`; the files are in `PlannedStep.copyItems`).
    case copyFiles(FileCopy)
    /// Run-configuration edits that leave the filesystem alone.
    case config([ConfigChange])
    /// A Dockerfile WORKDIR: sets the working directory and creates it, owned by the
    /// current user, when the image lacks it (a layer only then).
    case makeWorkdir(String)

    /// Whether the step changes the filesystem (and so produces a layer).
    public var producesLayer: Bool {
        switch self {
        case .run, .copy, .runWithArguments, .copyFiles, .makeWorkdir: return true
        case .env, .workdir, .user, .config: return false
        }
    }

    /// A one-line summary for progress and `--explain`.
    public var summary: String {
        switch self {
        case let .run(command, _, _):
            if command.count == 3, command[0] == "/bin/sh", command[1] == "-c" { return "run \(command[2])" }
            return "run \(command.joined(separator: " "))"
        case let .copy(sources, destination): return "copy \(sources.joined(separator: " ")) -> \(destination)"
        case let .env(variables): return "env " + variables.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        case let .workdir(path): return "workdir \(path)"
        case let .user(user): return "user \(user)"
        case .runWithArguments, .copyFiles, .config, .makeWorkdir: return dockerfileSummary
        }
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

public enum BuildNetwork: String, Hashable, Sendable, Codable {
    case host, none
}

/// A file a step reads from the project, identified by content: the cache key depends on
/// what the file holds and how it is stored, not on when it was touched.
public struct BuildInput: Hashable, Sendable, Codable, Comparable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case file, symlink, directory
    }

    /// Project-relative path.
    public var path: String
    public var kind: Kind
    /// Content digest of a file, or of a symlink's target text; nil for directories.
    public var digest: Digest?
    /// Permission bits (the executable bit changes what a copied file does).
    public var mode: UInt32
    /// `uid:gid` when the copy keeps the source's ownership (files from another stage).
    public var owner: String?

    public init(path: String, kind: Kind, digest: Digest?, mode: UInt32, owner: String? = nil) {
        self.path = path
        self.kind = kind
        self.digest = digest
        self.mode = mode
        self.owner = owner
    }

    public static func < (lhs: BuildInput, rhs: BuildInput) -> Bool {
        Array(lhs.path.utf8).lexicographicallyPrecedes(Array(rhs.path.utf8))
    }
}
