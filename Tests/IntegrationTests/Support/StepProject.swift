@testable import DevenvTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A project on a minimal base (busybox and /etc/passwd, /etc/group, /tmp only: no /proc,
/// /dev, /sys, /root, /var or /etc/hosts, so the runtime's mount points would show in a
/// layer), with its own store, run as `user`.
final class StepProject {
    let scratch: Scratch
    let runner: DevenvRunner
    let root: String

    var user: DevenvUser { runner.user }
    var store: String { runner.store }

    static let applets = ["sh", "ls", "cat", "echo", "true", "touch", "mkdir", "sleep", "ln", "chmod", "chown", "rm", "stat", "id", "test", "["]

    init(as user: DevenvUser, manifest: String) throws {
        scratch = try Scratch("devenv-steps")
        root = scratch.file("project")
        let base = scratch.file("base")
        let manager = FileManager.default
        for directory in ["\(root)/.devenv", "\(base)/bin", "\(base)/etc", "\(base)/tmp"] {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        chmod("\(base)/tmp", 0o1777)
        guard let busybox = ["/bin/busybox", "/usr/bin/busybox"].first(where: { manager.isExecutableFile(atPath: $0) }) else {
            throw DevenvProcess.Missing(what: "busybox-static (apt-get install busybox-static)")
        }
        try manager.copyItem(atPath: busybox, toPath: "\(base)/bin/busybox")
        for applet in Self.applets { try manager.createSymbolicLink(atPath: "\(base)/bin/\(applet)", withDestinationPath: "busybox") }
        try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: "\(base)/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\n".write(toFile: "\(base)/etc/group", atomically: true, encoding: .utf8)
        let tarball = scratch.file("base.tar")
        try DevenvProcess.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner", "-C", base, "-cf", tarball, "."])
        try manifest.write(toFile: "\(root)/.devenv/devenv.toml", atomically: false, encoding: .utf8)
        runner = try DevenvRunner(user, scratch: scratch)
        let imported = try devenv(["image", "import", tarball, "--tag", "base:it"])
        guard imported.succeeded else { throw DevenvProcess.Missing(what: "the base image: \(imported.stderr)") }
    }

    func write(_ relative: String, _ contents: String) throws {
        let path = "\(root)/\(relative)"
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        try runner.own(path)
    }

    func devenv(_ arguments: [String]) throws -> DevenvProcess.Result {
        try runner.devenv(arguments, directory: root)
    }

    /// Starts devenv without waiting; stderr is a pipe the caller reads.
    func start(_ arguments: [String]) throws -> (process: Process, stderr: FileHandle) {
        let (executable, line) = try runner.command(arguments)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = line
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, errors.fileHandleForReading)
    }

    /// `devenv build --json`: the result and the steps' JSON.
    func build(_ extra: [String] = []) throws -> (result: DevenvProcess.Result, steps: [[String: Any]]) {
        let result = try devenv(["build", "--json"] + extra)
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result, object?["steps"] as? [[String: Any]] ?? [])
    }

    /// `tar -tv --numeric-owner` of the image's top layer, one line per entry as
    /// "MODE UID/GID PATH" (sizes and times left out).
    /// `below`: that many layers under the top one (a `packages` step makes one per package).
    func topLayer(below: Int = 0) throws -> [String] {
        let inspected = try devenv(["image", "inspect", "--json", "localhost/devenv/project:\(try projectID())"])
        guard inspected.succeeded, let object = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any],
              let manifest = object["manifest"] as? [String: Any], let layers = manifest["layers"] as? [[String: Any]],
              layers.count > below, let digest = layers[layers.count - 1 - below]["digest"] as? String else {
            throw DevenvProcess.Missing(what: "the built image: \(inspected.stderr)")
        }
        let blob = "\(store)/blobs/sha256/\(digest.dropFirst("sha256:".count))"
        let listing = try DevenvProcess.run("/bin/sh", ["-c", "zstd -dc '\(blob)' | tar -tv --numeric-owner"])
        return listing.stdout.split(separator: "\n").map { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return "\(fields[0]) \(fields[1]) \(fields[5...].joined(separator: " "))"
        }
    }

    /// The id devenv gives this project (its directory under the store's `projects/`).
    func projectID() throws -> String {
        guard let id = try FileManager.default.contentsOfDirectory(atPath: "\(store)/projects").first else {
            throw DevenvProcess.Missing(what: "a project state directory in \(store)/projects")
        }
        return id
    }
}
