import DevenvOCI
import DevenvPlan
import DevenvText

/// What building one target of a Dockerfile takes: the stages it needs, in the order to
/// build them (the target last), each lowered to steps. Copy steps still need their
/// files found (in the context or another stage's image), which is the Kit's I/O.
public struct DockerfilePlan: Sendable {
    public var stages: [PlannedStage]
    /// Build arguments no ARG in the built stages declared (Docker warns about them too).
    public var unusedArguments: [String]

    public var target: PlannedStage { stages[stages.count - 1] }
}

public struct PlannedStage: Sendable {
    public enum Base: Equatable, Sendable {
        /// An image reference with variables expanded, as FROM wrote it.
        case image(Word)
        case scratch
        /// An earlier stage, by index.
        case stage(Int)
    }

    /// 0-based position in the Dockerfile.
    public var index: Int
    /// Lower case, if the stage has a name.
    public var name: String?
    public var base: Base
    public var location: SourceLocation
    public var steps: [DockerfileStep]
    /// The run configuration the stage ends with, as far as the Dockerfile determines it
    /// (the base image's, plus what the instructions set).
    public var config: ImageConfigSummary

    /// `build` or `#1`.
    public var displayName: String { name ?? "#\(index)" }
}

/// The parts of a run configuration the planner tracks to expand variables and resolve
/// relative paths.
public struct ImageConfigSummary: Equatable, Sendable {
    public var env: [String]
    public var workingDir: String?
    public var user: String?
    /// SHELL (stages built on this stage inherit it).
    public var shell: [String]
    /// The ONBUILD triggers the stage declares (its base's ran and were cleared): a stage
    /// built on this one runs them, as BuildKit does.
    public var onBuild: [String]

    public init(env: [String] = [], workingDir: String? = nil, user: String? = nil, shell: [String] = DockerfilePlanner.defaultShell,
                onBuild: [String] = []) {
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.shell = shell
        self.onBuild = onBuild
    }
}

public struct DockerfileStep: Sendable {
    public var step: Step
    /// The instruction in the Dockerfile's words (`RUN make`, `COPY --from=build /out /srv`).
    public var definition: String
    /// The instruction's keyword.
    public var location: SourceLocation
    /// For copy steps: where the sources come from and what they are.
    public var copy: CopySource?

    public init(step: Step, definition: String, location: SourceLocation, copy: CopySource? = nil) {
        self.step = step
        self.definition = definition
        self.location = location
        self.copy = copy
    }
}

/// The sources of a COPY or ADD, with variables expanded.
public struct CopySource: Equatable, Sendable {
    public enum Origin: Equatable, Sendable {
        case context
        /// An earlier stage, by index.
        case stage(Int)
        /// An image reference (`COPY --from=busybox:1.36 ...`).
        case image(Word)
    }

    public var origin: Origin
    /// Paths or wildcard patterns (`*`, `?`, `[...]`): relative to the context, or
    /// absolute in the stage or image.
    public var patterns: [Word]
    /// Heredoc sources: files created with this content (name = heredoc name).
    public var inline: [InlineFile]
    /// ADD's http and https sources: files downloaded when the step is planned.
    public var remote: [RemoteFile] = []
    /// ADD's git sources: repositories cloned when the step is planned.
    public var git: [GitSource] = []

    public init(origin: Origin, patterns: [Word], inline: [InlineFile] = [], remote: [RemoteFile] = [], git: [GitSource] = []) {
        self.origin = origin
        self.patterns = patterns
        self.inline = inline
        self.remote = remote
        self.git = git
    }
}

/// An `ADD <git url>` source, as BuildKit reads it: `URL[#REF[:SUBDIR]]`; the work tree (or
/// SUBDIR of it) at REF is copied into the destination directory, without `.git` unless
/// `--keep-git-dir`.
public struct GitSource: Equatable, Sendable {
    public var url: String
    public var ref: String?
    public var subdirectory: String?
    public var keepGitDirectory: Bool
    public var location: SourceLocation
}

/// An `ADD https://…` source, as BuildKit treats it: one file, never unpacked, named after
/// the URL path's last segment in a directory destination, mode 0600 unless `--chmod`.
public struct RemoteFile: Equatable, Sendable {
    public var url: String
    public var name: String
    /// `--checksum`: the bytes must hash to it.
    public var checksum: Digest?
    public var location: SourceLocation
}

public struct InlineFile: Equatable, Sendable {
    public var name: String
    public var content: String
    public var location: SourceLocation
}
