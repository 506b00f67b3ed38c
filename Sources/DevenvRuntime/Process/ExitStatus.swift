/// How the container's main command ended.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// The status a shell would report: the exit code, or 128+N when killed by signal N.
    public var shellCode: Int32 {
        switch self {
        case .exited(let code): return code & 0xff
        case .signaled(let signal): return 128 + signal
        }
    }

    /// Decodes a `waitpid(2)` status word.
    public init(waitStatus status: Int32) {
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(signal)
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}

/// devenv's own exit codes, distinct from the command's, as docker and podman use them.
public enum RuntimeExitCode {
    /// The container could not be set up (namespaces, mounts, id maps, ...).
    public static let setupFailed: Int32 = 125
    /// The command exists but could not be executed (permission, format).
    public static let notExecutable: Int32 = 126
    /// The command was not found.
    public static let notFound: Int32 = 127
}
