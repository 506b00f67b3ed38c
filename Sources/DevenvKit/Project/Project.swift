import DevenvManifest
import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A checkout with a `.devenv/devenv.toml`: its root, its validated manifest, and the names
/// devenv derives from where it lives.
public struct Project: Sendable {
    /// Absolute path of the directory holding `.devenv/`.
    public let root: String
    public let manifest: Manifest
    /// The manifest path as messages show it (relative to the project root).
    public let displayPath = ProjectLocator.manifestPath

    public var manifestPath: String { "\(root)/\(ProjectLocator.manifestPath)" }
    public var lockPath: String { "\(root)/\(ProjectLocator.lockPath)" }

    public static func load(root: String) throws -> Project {
        let path = "\(root)/\(ProjectLocator.manifestPath)"
        let bytes = try FileDescriptor.readRegularFile(path, limit: Manifest.maxFileSize, operation: "read the manifest")
        let manifest = try Manifest.parse(bytes, path: ProjectLocator.manifestPath)
        return Project(root: root, manifest: manifest)
    }

    /// The directory name, reduced to what an image name allows.
    public var name: String { Self.name(root: root) }

    /// The image the build produces.
    public var imageTag: String { Self.imageTag(root: root) }

    /// The same names for a directory without a manifest (a Dockerfile or devcontainer.json project).
    public static func imageTag(root: String) -> String { "localhost/devenv/\(name(root: root)):\(ProjectState.id(root: root))" }

    public static func name(root: String) -> String {
        let base = (root as NSString).lastPathComponent.lowercased()
        var name = String(base.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return c.isASCII && (c.isLetter || c.isNumber) ? c : "-"
        })
        while name.contains("--") { name = name.replacingOccurrences(of: "--", with: "-") }
        name = name.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return name.isEmpty ? "project" : name
    }

    /// `.devenv/devenv.toml:LINE`
    public func location(_ source: SourceLocation) -> String { "\(displayPath):\(source.line)" }
}

func quoted(_ path: String) -> String { "'\(Printable.escape(path))'" }
