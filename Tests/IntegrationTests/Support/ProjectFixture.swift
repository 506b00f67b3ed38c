@testable import DevenvTestSupport
import Foundation

/// A project directory with a `.devenv/devenv.toml`, and a store holding a busybox base
/// image named `busybox:it` to build on.
final class ProjectFixture {
    let scratch: Scratch
    let store: String
    let root: String

    init(manifest: String) throws {
        scratch = try Scratch("devenv-project")
        store = scratch.file("store")
        root = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(root)/.devenv", withIntermediateDirectories: true)
        try write(".devenv/devenv.toml", manifest)
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        let imported = try DevenvProcess.devenv(["image", "import", tarball, "--tag", "busybox:it"], store: store)
        guard imported.succeeded else { throw DevenvProcess.Missing(what: "a busybox base image: \(imported.stderr)") }
    }

    func write(_ relative: String, _ contents: String) throws {
        let path = "\(root)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func devenv(_ arguments: [String], in subdirectory: String = "", stdin: Data? = nil) throws -> DevenvProcess.Result {
        try DevenvProcess.devenv(arguments, store: store, stdin: stdin, directory: subdirectory.isEmpty ? root : "\(root)/\(subdirectory)")
    }

    /// `devenv build --json`, decoded.
    func build(_ extra: [String] = []) throws -> (result: DevenvProcess.Result, steps: [[String: Any]]) {
        let result = try devenv(["build", "--json"] + extra)
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result, object?["steps"] as? [[String: Any]] ?? [])
    }
}
