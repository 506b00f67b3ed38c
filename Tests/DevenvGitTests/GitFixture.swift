import Foundation
import Testing

/// A temporary directory with helpers to run the real `git` CLI in it. Git runs with a
/// private HOME and no system config so the machine's settings cannot change results.
final class GitFixture {
    let root: String
    private let home: String

    init(name: String = "repo") throws {
        let template = NSTemporaryDirectory() + "devenv-git-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard let created = mkdtemp(&buffer) else { throw FixtureError("mkdtemp \(template): errno \(errno)") }
        // Resolve symlinks (a symlinked TMPDIR) so paths compare equal to libgit2's.
        let base = URL(fileURLWithPath: String(cString: created)).resolvingSymlinksInPath().path
        root = base + "/" + name
        home = base + "/home"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent)
    }

    var base: String { (root as NSString).deletingLastPathComponent }

    /// Runs git and returns its stdout; a non-zero exit fails with git's stderr.
    @discardableResult
    func git(_ arguments: String..., in directory: String? = nil) throws -> String {
        try git(arguments, in: directory)
    }

    @discardableResult
    func git(_ arguments: [String], in directory: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? root)
        process.environment = [
            "HOME": home, "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("git \(arguments.joined(separator: " ")): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes a file (creating directories) relative to the repository root.
    func write(_ relative: String, _ contents: String = "x\n") throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + relative)
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
    }

    /// An initialised repository with one commit of `files`.
    static func committed(_ files: [String], name: String = "repo") throws -> GitFixture {
        let fixture = try GitFixture(name: name)
        try fixture.git("init", "-q", "-b", "main")
        for file in files { try fixture.write(file) }
        try fixture.git("add", "-A")
        try fixture.git("commit", "-q", "-m", "initial")
        return fixture
    }

    /// `git ls-files -z` output as a sorted list.
    func lsFiles(_ arguments: String...) throws -> [String] {
        try git(["ls-files", "-z"] + arguments).split(separator: "\0").map(String.init)
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
