import DevenvSystem

/// The runtime's one error type. Messages name the stage, the object and errno, e.g.
/// `mount overlay on /run/devenv/rootfs: invalid argument (EINVAL)`, with a hint when the fix
/// is known.
public struct RuntimeError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The spec is unusable (relative paths, too many layers, ...); nothing was started.
        case invalidSpec
        /// Namespaces, id maps, mounts or credentials could not be set up.
        case setup
        /// The command was not found in the container.
        case commandNotFound
        /// The command was found but could not be executed.
        case commandNotExecutable
        /// devenv was told to stop (`signal`) and stopped the container (`InterruptPolicy.stop`).
        case interrupted
    }

    public var kind: Kind
    /// `stage: message (ERRNO)`, or a plain sentence for invalid specs.
    public var message: String
    public var errno: Int32?
    public var hint: String?
    /// For `.interrupted`: the signal devenv received.
    public var signal: Int32?

    public init(_ kind: Kind, _ message: String, errno: Int32? = nil, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.errno = errno
        self.hint = hint
    }

    public static func invalid(_ message: String) -> RuntimeError { RuntimeError(.invalidSpec, message) }

    public static func interrupted(_ signal: Int32) -> RuntimeError {
        var error = RuntimeError(.interrupted, "interrupted by signal \(signal); the container was stopped")
        error.signal = signal
        return error
    }

    /// `body`, with a `SystemError` it throws as a setup error.
    static func wrapSetup<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SystemError {
            throw RuntimeError.setup(error)
        }
    }

    public static func setup(_ error: SystemError) -> RuntimeError {
        RuntimeError(.setup, SystemError(error.operation, path: error.path, errno: error.errno, reason: error.reason).description,
                     errno: error.errno, hint: error.hint)
    }

    /// The exit code devenv uses for this failure (125/126/127, see `RuntimeExitCode`).
    public var exitCode: Int32 {
        switch kind {
        case .invalidSpec, .setup: return RuntimeExitCode.setupFailed
        case .commandNotFound: return RuntimeExitCode.notFound
        case .commandNotExecutable: return RuntimeExitCode.notExecutable
        case .interrupted: return 128 + (signal ?? 2)
        }
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\nhint: \(hint)"
    }
}
