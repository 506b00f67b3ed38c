/// A loaded project of either kind: a devenv manifest, or a devcontainer.json adopted as it
/// is. `ProjectLocator.load(from:)` decides which.
public enum ProjectSource: Sendable {
    case manifest(Project)
    case devContainer(DevContainerProject)

    public var root: String {
        switch self {
        case let .manifest(project): return project.root
        case let .devContainer(project): return project.root
        }
    }

    /// The project file as messages show it (relative to the root).
    public var displayPath: String {
        switch self {
        case let .manifest(project): return project.displayPath
        case let .devContainer(project): return project.displayPath
        }
    }
}
