import DevenvAdopt
import DevenvManifest
import DevenvSystem
import Foundation

extension DevContainerConverter {
    /// Writes `.devenv/devenv.toml` for the devcontainer project at `root`; refuses to
    /// replace an existing manifest unless `force`.
    @discardableResult
    public static func write(root: String, force: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let path = "\(root)/\(ProjectLocator.manifestPath)"
        if !force && FileManager.default.fileExists(atPath: path) {
            throw KitError.wouldOverwrite(path: ProjectLocator.manifestPath, hint: "remove it first or pass --force")
        }
        let project = try DevContainerProject.load(root: root, environment: environment)
        let text = convert(project.config, displayPath: project.displayPath)
        // The result must be a valid manifest; a failure here is a converter bug, not the user's.
        _ = try Manifest.parse(Array(text.utf8), path: ProjectLocator.manifestPath)
        try FileManager.default.createDirectory(atPath: "\(root)/.devenv", withIntermediateDirectories: true)
        try AtomicFile.write(Data(text.utf8), to: path)
        return path
    }
}
