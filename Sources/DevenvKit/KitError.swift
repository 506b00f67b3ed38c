import DevenvOCI

/// Errors of devenv's use cases (import, export, run…) that are not a lower module's.
public enum KitError: Error, CustomStringConvertible, Sendable {
    case importFailed(source: String, reason: String)
    case exportFailed(image: String, reason: String)
    case invalidArgument(String)
    case projectNotFound(String)
    /// devenv's helper in the user namespace failed; its own message (already escaped).
    case helperFailed(String)

    public var description: String {
        switch self {
        case let .importFailed(source, reason):
            return "import '\(Printable.escape(source))': \(reason)"
        case let .exportFailed(image, reason):
            return "export '\(Printable.escape(image))': \(reason)"
        case let .invalidArgument(message), let .helperFailed(message):
            return message
        case let .projectNotFound(directory):
            return "no .devenv/devenv.toml in '\(Printable.escape(directory))' or any parent directory\nhint: `devenv init` creates one"
        }
    }
}
