import DevenvRuntime
import DevenvStore
import DevenvSystem
import FoundationEssentials

/// Runs a prepared container and turns the outcome into devenv's exit code: the command's
/// own status (128+N for signal N), or 125/126/127 with a message when it could not start.
public enum SessionExecution {
    public static func run(_ spec: ContainerSpec, keeping lease: Lease?) -> Int32 {
        defer { withExtendedLifetime(lease) {} }
        do {
            return try ContainerRunner().run(spec).shellCode
        } catch let error as RuntimeError {
            note("devenv: error: \(error)")
            return error.exitCode
        } catch {
            note("devenv: error: \(error)")
            return RuntimeExitCode.setupFailed
        }
    }

    static func note(_ text: String) { StandardError.line(text) }
}
