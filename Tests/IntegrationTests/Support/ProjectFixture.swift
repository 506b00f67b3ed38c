@testable import DevenvTestSupport
import Foundation

/// A project directory with a `.devenv/devenv.toml`, and a store holding a busybox base
/// image named `busybox:it` to build on, used as `user` (the project belongs to that user).
final class ProjectFixture {
    let scratch: Scratch
    let runner: DevenvRunner
    let root: String

    var store: String { runner.store }
    var user: DevenvUser { runner.user }

    init(manifest: String, as user: DevenvUser = .root) throws {
        scratch = try Scratch("devenv-project")
        root = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(root)/.devenv", withIntermediateDirectories: true)
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        runner = try DevenvRunner(user, scratch: scratch)
        try write(".devenv/devenv.toml", manifest)
        // Each fixture writes its own tarball: the same epoch makes every fixture's base the same
        // image, as one pulled from a registry would be (the tarball's own mtime differs).
        let imported = try runner.devenv(["image", "import", tarball, "--tag", "busybox:it"], environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        guard imported.succeeded else { throw DevenvProcess.Missing(what: "a busybox base image: \(imported.stderr)") }
    }

    /// Writes a project file (as the project's user).
    func write(_ relative: String, _ contents: String) throws {
        let path = "\(root)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        try runner.own("\(root)/\(relative.split(separator: "/").first ?? "")")
    }

    func devenv(_ arguments: [String], in subdirectory: String = "", stdin: Data? = nil, timeout: TimeInterval? = nil) throws -> DevenvProcess.Result {
        try runner.devenv(arguments, stdin: stdin, directory: subdirectory.isEmpty ? root : "\(root)/\(subdirectory)", timeout: timeout)
    }

    /// `devenv build --json`, decoded.
    func build(_ extra: [String] = []) throws -> (result: DevenvProcess.Result, steps: [[String: Any]]) {
        let result = try devenv(["build", "--json"] + extra)
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result, object?["steps"] as? [[String: Any]] ?? [])
    }
}
