import DevenvOCI
import DevenvPlan
import DevenvStore

/// Everything one build needs, already resolved: the base image, the steps with the
/// digests of their inputs, where to keep per-project state and what to call the result.
public struct BuildRequest: Sendable {
    public var base: StoredImage
    /// The base as the user wrote it, for messages.
    public var baseName: String
    public var steps: [PlannedStep]
    public var tag: String
    public var labels: [String: String]
    public var noCache: Bool
    /// Steps from this index on run even when cached (`devenv lock` resolving `packages`
    /// steps against the archive again); every later one too, since their cached results
    /// were built on the old one's.
    public var rerunFrom: Int?
    /// A directory owned by this project's builds: the last build record, scratch space.
    public var stateDirectory: String

    public init(base: StoredImage, baseName: String, steps: [PlannedStep], tag: String, labels: [String: String], noCache: Bool, stateDirectory: String) {
        self.base = base
        self.baseName = baseName
        self.steps = steps
        self.tag = tag
        self.labels = labels
        self.noCache = noCache
        self.stateDirectory = stateDirectory
    }
}

public struct PlannedStep: Sendable {
    public var step: Step
    /// The step in its front end's words (`run make`, `RUN make`, `COPY a /b`): what image
    /// history, progress and `--explain` call it. Not part of the cache key.
    public var definition: String
    public var inputs: [BuildInput]
    /// For run steps: host directories backing the step's cache mounts (and its project mount).
    public var cacheMounts: [StepExecution.CacheMount]
    /// `.devenv/devenv.toml:12`
    public var location: String
    /// For copy steps: the sources, each with its files.
    public var copyItems: [CopyItem]
    /// What progress and messages call the step, when the step's own summary says too much
    /// (a package step is a generated installer script: "packages git make" reads better).
    public var displaySummary: String?

    public var summary: String { displaySummary ?? definition }

    public init(step: Step, definition: String, inputs: [BuildInput] = [], cacheMounts: [StepExecution.CacheMount] = [], location: String,
                copyItems: [CopyItem] = [], displaySummary: String? = nil) {
        self.step = step
        self.definition = definition
        self.displaySummary = displaySummary
        self.inputs = inputs
        self.cacheMounts = cacheMounts
        self.location = location
        self.copyItems = copyItems
    }
}

/// What happened to each step, for progress and `--explain`.
public struct StepOutcome: Sendable {
    public var number: Int
    public var summary: String
    public var location: String
    public var key: Digest
    /// nil on a cache hit.
    public var missReason: MissReason?
    public var seconds: Double
    /// Whether the same inputs always give this step the same layer: devenv writes copies,
    /// working directories and configuration deterministically (sorted entries, clamped
    /// mtimes, no clock); a run step's layer is only as reproducible as its command.
    public var reproducible = false

    public static func isReproducible(_ step: Step) -> Bool {
        if case .run = step { return false }
        return true
    }
}

public enum BuildEvent: Sendable {
    case stepStarted(number: Int, total: Int, summary: String)
    case stepFinished(StepOutcome)
}

public struct BuildResult: Sendable {
    public var image: StoredImage
    public var steps: [StepOutcome]

    public init(image: StoredImage, steps: [StepOutcome]) {
        self.image = image
        self.steps = steps
    }

    public var rebuiltSteps: Int { steps.filter { $0.missReason != nil }.count }
}
