import DevenvArchive
import DevenvOCI
import DevenvPlan

/// Runs a `run` step's command in a container whose root is an overlay of `lowerDirs`
/// with `upperDir` on top; the upper directory is kept for the builder to commit. The
/// builder only sees this seam; the runtime adapter lives in DevenvKit. A wrapper must
/// forward every requirement: the defaults below run in this process, which rootless
/// cannot read the step's files.
public protocol StepExecutor {
    /// Returns the command's shell-style exit status (0 is success, 128+N for signal N).
    /// Throws `StepInterrupted` when devenv was told to stop (SIGINT, SIGTERM, SIGHUP) while
    /// the step ran; the step's container is gone by then.
    func execute(_ execution: StepExecution) throws -> Int32

    /// What the runtime puts in the upper directory for `execution` (mount points where the
    /// image lacks them, generated /etc files, the home directory): not the step's changes.
    func runtimeFiles(for execution: StepExecution) throws -> RuntimeFiles

    /// Commits a run step's upper directory: `UpperCommit.removeStubs`, then the layer, read
    /// where the step's files are readable as its container's root sees them.
    func commit(_ commit: UpperCommit, to output: String, options: LayerWriteOptions) throws -> LayerBlob

    /// Splits a `packages` step's upper directory into its layers' directories
    /// (`UpperSplit.run`), where the step's files are readable as its container's root sees
    /// them; nil when the step stays one layer.
    func split(_ split: UpperSplit) throws -> [UpperSplit.Part]?
}

extension StepExecutor {
    public func runtimeFiles(for execution: StepExecution) throws -> RuntimeFiles { RuntimeFiles() }

    /// In this process: right for root, whose containers' files it can read as they are.
    public func commit(_ commit: UpperCommit, to output: String, options: LayerWriteOptions) throws -> LayerBlob {
        try commit.write(to: output, options: options)
    }

    public func split(_ split: UpperSplit) throws -> [UpperSplit.Part]? {
        try split.run()
    }
}

/// devenv was told to stop while a step ran.
public struct StepInterrupted: Error, Sendable {
    public let signal: Int32

    public init(signal: Int32) { self.signal = signal }
}

public struct StepExecution: Sendable {
    public var command: [String]
    public var environment: [String]
    public var workingDirectory: String
    public var user: String?
    /// Topmost first.
    public var lowerDirs: [String]
    public var upperDir: String
    /// overlayfs' work directory, on the same filesystem as `upperDir`.
    public var workDir: String
    public var cacheMounts: [CacheMount]
    public var network: BuildNetwork
    /// What the step declared; the executor gives them their content while it runs.
    public var secrets: [SecretMount] = []

    public struct CacheMount: Sendable, Hashable {
        public var hostPath: String
        public var containerPath: String
        /// The working tree of a devcontainer create command: as root its owner appears as the
        /// step's user, so a `remoteUser` can write it and what it makes stays the owner's
        /// (docs/dockerfile.md).
        public var ownedByStepUser: Bool

        public init(hostPath: String, containerPath: String, ownedByStepUser: Bool = false) {
            self.hostPath = hostPath
            self.containerPath = containerPath
            self.ownedByStepUser = ownedByStepUser
        }
    }
}
