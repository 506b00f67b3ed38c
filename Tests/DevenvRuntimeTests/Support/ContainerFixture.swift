@testable import DevenvRuntime
import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Shared setup for tests that start real containers: the built devenv binary (the init
/// executable), a busybox root filesystem, an unprivileged user with subordinate ids.
/// Everything lives under /tmp/devenv-runtime-tests and is created idempotently, so
/// parallel tests and reruns share it.
enum Fixture {
    static let base = "/tmp/devenv-runtime-tests"
    static let testUserName = "devenv-test"

    /// Privileged tests run as root. In CI (CI=true) they always run, so a missing
    /// requirement fails with a message instead of silently skipping.
    static var privilegedTestsEnabled: Bool { geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" }

    static func requireRoot() throws {
        guard geteuid() == 0 else { throw FixtureError("this test starts containers as root and creates a test user: run `swift test` as root") }
    }

    static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }

    /// `$DEVENV_BINARY`, else the debug build `swift test` produces next to the tests.
    static func devenvBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["DEVENV_BINARY"] { return path }
        let path = packageRoot + "/.build/debug/devenv"
        guard access(path, X_OK) == 0 else { throw FixtureError("\(path) is missing: run `swift build` first (the runtime re-executes it as the container's init)") }
        return path
    }

    static func runner() throws -> ContainerRunner {
        ContainerRunner(initExecutable: try devenvBinary())
    }

    /// A busybox root filesystem owned by `owner` (container root's host uid: 0 as root,
    /// the first subordinate uid for the test user). Built once, then reused.
    static func busyboxRootfs(owner: UInt32 = 0) throws -> String {
        try makeBase()
        let path = "\(base)/rootfs-\(owner)"
        let lock = try FileLock(path: path + ".lock")
        defer { lock.unlock() }
        if access(path + "/.complete", F_OK) == 0 { return path }
        let staging = path + ".staging"
        try shell("rm -rf '\(staging)' '\(path)' && mkdir -p '\(staging)'/bin '\(staging)'/etc '\(staging)'/root '\(staging)'/tmp '\(staging)'/mnt"
            + " && cp /bin/busybox '\(staging)'/bin/busybox"
            + " && for a in $(/bin/busybox --list); do [ \"$a\" = busybox ] || ln -s busybox '\(staging)'/bin/$a; done"
            + " && printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' > '\(staging)'/etc/passwd"
            + " && printf 'root:x:0:\\ntty:x:5:\\nnogroup:x:65534:\\n' > '\(staging)'/etc/group"
            + " && chmod 1777 '\(staging)'/tmp && chown -R \(owner):\(owner) '\(staging)'"
            + " && touch '\(staging)'/.complete && mv '\(staging)' '\(path)'")
        return path
    }

    static func makeBase() throws {
        if mkdir(base, 0o755) != 0 && errno != EEXIST { throw SystemError.last("mkdir", path: base) }
        chmod(base, 0o755)
    }

    /// A fresh directory (removed by the caller), owned by `owner`.
    static func temporaryDirectory(owner: UInt32? = nil, group: UInt32? = nil) throws -> String {
        try makeBase()
        let path = "\(base)/tmp-\(UUID().uuidString)"
        guard mkdir(path, 0o755) == 0 else { throw SystemError.last("mkdir", path: path) }
        if let owner { chown(path, owner, group ?? owner) }
        return path
    }

    static func remove(_ path: String) { Doctor.removeTree(path) }

    @discardableResult
    static func shell(_ script: String) throws -> String {
        let result = try Command.run("/bin/sh", ["-c", script])
        guard result.status == 0 else { throw FixtureError("fixture command failed (\(result.status)): \(script)\n\(result.stderr)") }
        return result.stdout
    }

    /// A spec for the busybox rootfs as root, the way `devenv run` builds it.
    static func spec(_ command: [String], workspace: String, rootfs: String, network: NetworkMode = .host) -> ContainerSpec {
        WorkspaceSession(lowerDirs: [rootfs], command: command, mountDirectory: workspace, network: network)
            .spec(for: HostIdentity(uid: 0, gid: 0, name: "root"))
    }
}

/// A container's captured result when run in-process through `ContainerRunner`.
struct Captured {
    var status: DevenvRuntime.ExitStatus
    var stdout: String
    var stderr: String
    var stdoutBytes: [UInt8]
}

extension ContainerRunner {
    /// Runs with stdio on temporary files (binary-safe, no pipe deadlocks).
    func capture(_ spec: ContainerSpec, input: [UInt8] = []) throws -> Captured {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.remove(directory) }
        try Data(input).write(to: URL(fileURLWithPath: directory + "/in"))
        let stdin = try FileDescriptor.open(directory + "/in", O_RDONLY)
        let stdout = try FileDescriptor.open(directory + "/out", O_RDWR | O_CREAT | O_TRUNC, mode: 0o600)
        let stderr = try FileDescriptor.open(directory + "/err", O_RDWR | O_CREAT | O_TRUNC, mode: 0o600)
        let status = try run(spec, io: ContainerIO(input: stdin.raw, output: stdout.raw, error: stderr.raw))
        let out = [UInt8](FileManager.default.contents(atPath: directory + "/out") ?? Data())
        let err = FileManager.default.contents(atPath: directory + "/err") ?? Data()
        return Captured(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self), stdoutBytes: out)
    }
}

/// Runs a host program to completion with output captured in files.
enum Command {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> Result {
        let process = try start(executable, arguments, directory: directory)
        process.process.waitUntilExit()
        return process.result()
    }

    static func start(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> Running {
        let outputs = try Fixture.temporaryDirectory()
        _ = FileManager.default.createFile(atPath: outputs + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: outputs + "/err", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: outputs + "/out")
        process.standardError = FileHandle(forWritingAtPath: outputs + "/err")
        try process.run()
        return Running(process: process, outputs: outputs)
    }

    final class Running {
        let process: Process
        let outputs: String

        init(process: Process, outputs: String) {
            self.process = process
            self.outputs = outputs
        }

        /// Waits up to `seconds`; kills and reports a failure when it takes longer.
        func wait(seconds: Double = 60) -> Result {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("process \(process.processIdentifier) still running after \(seconds)s; killed")
            }
            process.waitUntilExit()
            return result()
        }

        func result() -> Result {
            defer { Fixture.remove(outputs) }
            let out = FileManager.default.contents(atPath: outputs + "/out") ?? Data()
            let err = FileManager.default.contents(atPath: outputs + "/err") ?? Data()
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            return Result(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
        }
    }
}

/// Polls for a file to appear (a container signalling it is ready).
func waitForFile(_ path: String, seconds: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if access(path, F_OK) == 0 { return true }
        usleep(20_000)
    }
    return false
}
