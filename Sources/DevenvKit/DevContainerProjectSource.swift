import Foundation

/// Where a command's project comes from: a devenv manifest, or a devcontainer.json adopted
/// as it is. The nearest directory (walking up from the working directory) that has either
/// wins; a directory with both uses `.devenv/devenv.toml`.
public enum ProjectSource: Sendable {
    case manifest(Project)
    case devContainer(DevContainerProject)

    public enum Location: Sendable, Equatable {
        case manifest(root: String)
        case devContainer(root: String)
    }

    /// Finds the project without reading it.
    public static func locate(from directory: String) -> Location? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            if FileManager.default.fileExists(atPath: "\(current)/\(ProjectLocator.manifestPath)") { return .manifest(root: current) }
            if DevContainerProject.configPath(root: current) != nil { return .devContainer(root: current) }
            if current == "/" || current.isEmpty { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// Finds and loads the project around `directory`.
    /// - Throws: `KitError.projectNotFound` when there is neither; the file's own errors otherwise.
    public static func load(from directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProjectSource {
        switch locate(from: directory) {
        case let .manifest(root)?: return .manifest(try Project.load(root: root))
        case let .devContainer(root)?: return .devContainer(try DevContainerProject.load(root: root, environment: environment))
        case nil: throw KitError.projectNotFound(directory)
        }
    }

    public var root: String {
        switch self {
        case let .manifest(project): return project.root
        case let .devContainer(project): return project.root
        }
    }

    public var imageTag: String {
        switch self {
        case let .manifest(project): return project.imageTag
        case let .devContainer(project): return project.imageTag
        }
    }
}
