import DevenvAdopt
import DevenvManifest
import Foundation

/// The features' `mounts` devenv applies, kept in the image's labels (as the start commands
/// are) so a session mounts them without fetching the features again: named volumes, and
/// binds of working-tree paths (relative to the project, so the label names no host path).
/// A feature may not bind anything else of the host.
struct FeatureMounts: Sendable, Equatable, Codable {
    static let labelKey = "dev.devenv.devcontainer.feature-mounts"

    struct TreeBind: Sendable, Equatable, Codable {
        /// Relative to the project root; empty for the root itself.
        var path: String
        var target: String
        var readOnly: Bool
    }

    var volumes: [DevContainerVolume] = []
    var binds: [TreeBind] = []

    var label: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// A label devenv did not write (or that does not decode) adds nothing; an entry that
    /// `add` would not have made (a bad volume name, a tree path with `..`) is dropped.
    static func read(_ label: String?) -> FeatureMounts {
        guard let label, var mounts = try? JSONDecoder().decode(FeatureMounts.self, from: Data(label.utf8)) else { return FeatureMounts() }
        mounts.volumes = mounts.volumes.filter { DevContainerVolume.isValidName($0.name) && $0.target.hasPrefix("/") }
        mounts.binds = mounts.binds.filter { bind in
            bind.target.hasPrefix("/") && !bind.path.hasPrefix("/") && !bind.path.split(separator: "/").contains("..")
        }
        return mounts
    }

    /// Adds a feature's `mounts` entry; the reason when devenv does not apply it.
    mutating func add(_ mount: DevContainerMount, root: String) -> String? {
        switch mount {
        case let .volume(volume):
            volumes.append(volume)
            return nil
        case let .bind(source, target, readOnly):
            let standardized = URL(fileURLWithPath: source).standardizedFileURL.path
            guard standardized == root || standardized.hasPrefix(root + "/") else {
                return "a feature may bind only paths of the working tree (${localWorkspaceFolder}/…), not '\(Printable.escape(source, limit: 200))'"
            }
            binds.append(TreeBind(path: String(standardized.dropFirst(root.count).drop { $0 == "/" }), target: target, readOnly: readOnly))
            return nil
        case let .unsupported(reason):
            return reason
        }
    }

    /// The binds as session mounts at `root` (checked against the tree when the session binds them).
    func mounts(root: String, location: SourceLocation) -> [Manifest.Mount] {
        binds.map { bind in
            Manifest.Mount(source: .absolute(bind.path.isEmpty ? root : "\(root)/\(bind.path)"), target: bind.target, readOnly: bind.readOnly, location: location)
        }
    }
}
