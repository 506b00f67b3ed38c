import Foundation

/// Finds the project a command runs in and what kind it is: the nearest ancestor of the
/// working directory that holds a `.devenv/devenv.toml` or a devcontainer.json (a directory
/// with both is a manifest project). Every project command (`build`, `run`, `shell`,
/// `status`, `lock`) asks here, so they agree on which project and which kind.
public enum ProjectLocator {
    public static let manifestPath = ".devenv/devenv.toml"
    public static let lockPath = ".devenv/devenv.lock"

    /// Where a project is, before it is read.
    public enum Location: Sendable, Equatable {
        case manifest(root: String)
        case devContainer(root: String)

        public var root: String {
            switch self {
            case let .manifest(root), let .devContainer(root): return root
            }
        }
    }

    /// Finds the project without reading it.
    public static func locate(from directory: String) -> Location? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            if FileManager.default.fileExists(atPath: "\(current)/\(manifestPath)") { return .manifest(root: current) }
            if DevContainerProject.configPath(root: current) != nil { return .devContainer(root: current) }
            if current == "/" || current.isEmpty { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// Finds and loads the project around `directory`; `environment` supplies a
    /// devcontainer.json's `${localEnv:…}`.
    /// - Throws: `KitError.projectNotFound` when there is neither; the file's own errors otherwise.
    public static func load(from directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProjectSource {
        switch locate(from: directory) {
        case let .manifest(root)?: return .manifest(try Project.load(root: root))
        case let .devContainer(root)?: return .devContainer(try DevContainerProject.load(root: root, environment: environment))
        case nil: throw KitError.projectNotFound(directory)
        }
    }
}
