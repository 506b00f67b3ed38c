import DevenvOCI

/// Runs a `run` step's command in a container whose root is an overlay of `lowerDirs`
/// with `upperDir` on top; the upper directory is kept for the builder to commit. The
/// builder only sees this seam; the runtime adapter lives in DevenvKit.
public protocol StepExecutor {
    /// Returns the command's shell-style exit status (0 is success, 128+N for signal N).
    func execute(_ execution: StepExecution) throws -> Int32
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

    public struct CacheMount: Sendable, Hashable {
        public var hostPath: String
        public var containerPath: String

        public init(hostPath: String, containerPath: String) {
            self.hostPath = hostPath
            self.containerPath = containerPath
        }
    }
}
