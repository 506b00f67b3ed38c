import DevenvOCI

/// Errors of the builder. Each names the step by number and manifest location.
public enum BuildError: Error, CustomStringConvertible, Sendable {
    case stepFailed(number: Int, location: String, summary: String, status: Int32)
    case copyFailed(number: Int, location: String, path: String, reason: String)
    case layerFailed(number: Int, location: String, reason: String)
    /// devenv was told to stop (`signal`) while the step ran; nothing of the step was kept.
    case interrupted(number: Int, location: String, summary: String, signal: Int32)
    /// The steps' layers and the base's are more than an image may have.
    case tooManyLayers(count: Int, limit: Int)

    public var description: String {
        switch self {
        case let .stepFailed(number, location, summary, status):
            return "\(location): build step \(number) failed with exit status \(status): \(Printable.escape(summary, limit: 200))"
        case let .copyFailed(number, location, path, reason):
            return "\(location): build step \(number): copy '\(Printable.escape(path))': \(reason)"
        case let .layerFailed(number, location, reason):
            return "\(location): build step \(number): commit layer: \(reason)"
        case let .interrupted(number, location, summary, signal):
            return "\(location): build step \(number) interrupted by signal \(signal) (nothing of it was kept): \(Printable.escape(summary, limit: 200))"
        case let .tooManyLayers(count, limit):
            return "the environment would have \(count) layers, more than the \(limit) an image may have: set a lower `layers` on its `packages` steps (docs/manifest.md)"
        }
    }
}
