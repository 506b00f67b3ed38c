import Foundation

/// Finds the project a command runs in: the nearest ancestor of the working directory
/// that holds `.devenv/devenv.toml`.
public enum ProjectLocator {
    public static let manifestPath = ".devenv/devenv.toml"

    public static func find(from directory: String) -> String? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            if FileManager.default.fileExists(atPath: "\(current)/\(manifestPath)") { return current }
            if current == "/" || current.isEmpty { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }
}
