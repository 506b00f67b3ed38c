@testable import DevenvTestSupport
import Foundation

/// A project directory and a store of its own (or `store`, shared), for projects on a
/// distro base (no imported image: devenv bootstraps the base itself), used as `user`.
final class DistroProject {
    let scratch: Scratch
    let runner: DevenvRunner
    let root: String

    var store: String { runner.store }

    init(manifest: String? = nil, label: String = "devenv-distro", store: String? = nil, as user: DevenvUser = .root) throws {
        scratch = try Scratch(label)
        root = scratch.file("project")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        runner = try DevenvRunner(user, scratch: scratch, store: store)
        if let manifest { try write(".devenv/devenv.toml", manifest) }
    }

    /// Writes a project file (as the project's user).
    func write(_ relative: String, _ contents: String) throws {
        let path = "\(root)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        try runner.own("\(root)/\(relative.split(separator: "/").first ?? "")")
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: "\(root)/\(relative)", encoding: .utf8)
    }

    func devenv(_ arguments: [String]) throws -> DevenvProcess.Result {
        try runner.devenv(arguments, directory: root)
    }

    /// Names of the images in the store.
    func imageNames() throws -> [String] {
        let listed = try devenv(["image", "ls", "--json"])
        let images = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        return images.compactMap { $0["name"] as? String }
    }

    /// The stored base image of a distro (`localhost/devenv-base/...`).
    func baseImage() throws -> String? {
        try imageNames().first { $0.hasPrefix("localhost/devenv-base/") }
    }

    /// `devenv image inspect --json NAME`, decoded.
    func inspect(_ name: String) throws -> [String: Any] {
        let result = try devenv(["image", "inspect", "--json", name])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }
}
