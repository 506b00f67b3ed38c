import DevenvSession
import DevenvTestSupport
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

    static func requireRoot() throws {
        guard geteuid() == 0 else { throw FixtureError("this test starts containers as root and creates a test user: run `swift test` as root") }
    }

    static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }

    /// `$DEVENV_BINARY`, else the debug build `swift test` produces next to the tests.
    static func devenvBinary() throws -> String { try BuildProducts.executable() }

    /// In-process runs use `devenv __init`; the CLI tests find `devenv-init` beside devenv.
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

    /// Runs `script` with `sh -c`; `arguments` become `$0`, `$1`, … (for paths no quoting survives).
    @discardableResult
    static func shell(_ script: String, arguments: [String] = []) throws -> String {
        let result = try Command.run("/bin/sh", ["-c", script] + arguments)
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

/// Runs host programs with output captured in files. posix_spawn with an empty signal mask
/// and default dispositions: the test runner's threads block most signals, and children must
/// not inherit that.
enum Command {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], directory: String? = nil, seconds: Double = 60) throws -> Result {
        try start(executable, arguments, directory: directory).wait(seconds: seconds)
    }

    static func start(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> Running {
        let outputs = try Fixture.temporaryDirectory()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputs + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, outputs + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // posix_spawn has no portable chdir; a shell changes directory, then execs the program.
        let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory ?? ".", executable] + arguments
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, cArguments, environ)
        guard result == 0 else { throw FixtureError("posix_spawn \(executable): errno \(result)") }
        return Running(pid: pid, outputs: outputs)
    }

    final class Running {
        let pid: pid_t
        let outputs: String

        init(pid: pid_t, outputs: String) {
            self.pid = pid
            self.outputs = outputs
        }

        /// Waits up to `seconds`; kills and reports a failure when it takes longer.
        func wait(seconds: Double = 60) -> Result {
            let deadline = Date().addingTimeInterval(seconds)
            var status: Int32 = 0
            while true {
                let waited = waitpid(pid, &status, WNOHANG)
                if waited == pid { break }
                if waited < 0 && errno != EINTR { break }
                if Date() > deadline {
                    kill(pid, SIGKILL)
                    Issue.record("process \(pid) still running after \(seconds)s; killed")
                    _ = waitpid(pid, &status, 0)
                    break
                }
                usleep(10_000)
            }
            defer { Fixture.remove(outputs) }
            let out = FileManager.default.contents(atPath: outputs + "/out") ?? Data()
            let err = FileManager.default.contents(atPath: outputs + "/err") ?? Data()
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return Result(status: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
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
