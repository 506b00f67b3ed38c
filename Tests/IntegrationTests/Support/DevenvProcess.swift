@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `devenv` binary that `swift build`/`swift test` produced next to the test
/// bundle, and other programs, capturing their output.
enum DevenvProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var succeeded: Bool { status == 0 }
    }

    /// The devenv executable in the same build directory as the running test binary.
    static var binary: String { get throws { try BuildProducts.executable() } }

    /// Runs `devenv ARGS` against `store` (passed as `--store`, accepted by every command).
    /// `timeout`: SIGKILL the process after that many seconds (status 137), so a hang fails
    /// the test instead of stalling the suite.
    static func devenv(_ arguments: [String], store: String? = nil, environment: [String: String] = [:], stdin: Data? = nil, directory: String? = nil,
                       timeout: TimeInterval? = nil) throws -> Result {
        var env = environment
        if let store { env["DEVENV_HOME"] = store }
        return try run(try binary, arguments, environment: env, stdin: stdin, directory: directory, timeout: timeout)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil, directory: String? = nil,
                    timeout: TimeInterval? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let timeout {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [process] in
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        let errorOutput = ErrorOutput()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorOutput.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errorOutput.data, as: UTF8.self))
    }

    private final class ErrorOutput: @unchecked Sendable {
        var data = Data()
    }

    static func which(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin:/usr/local/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Missing(what: "program '\(name)' (.ci/install-deps installs what the tests need)")
    }

    struct Missing: Error, CustomStringConvertible {
        let what: String
        var description: String { "missing \(what)" }
    }
}

/// Runs devenv as the unprivileged `devenv-test` user (.ci/prepare-host creates it), as the
/// rootless tests do: a clean environment, and the files it needs handed over with `own`.
struct DevenvRunner {
    let uid: uid_t?
    let gid: gid_t?

    static let root = DevenvRunner(uid: nil, gid: nil)

    /// `devenv-test`, or nil (recording an issue on CI, where the user must exist).
    static func testUser() -> DevenvRunner? {
        guard let user = getpwnam("devenv-test") else {
            if Requirement.onCI { Issue.record("user devenv-test is missing (.ci/prepare-host creates it)") }
            return nil
        }
        return DevenvRunner(uid: user.pointee.pw_uid, gid: user.pointee.pw_gid)
    }

    var label: String { uid == nil ? "root" : "devenv-test" }

    /// Gives `path` and everything below it to the user.
    func own(_ path: String) throws {
        guard let uid, let gid else { return }
        let result = try DevenvProcess.run("chown", ["-R", "\(uid):\(gid)", path])
        guard result.succeeded else { throw DevenvProcess.Missing(what: "chown of \(path): \(result.stderr)") }
    }

    /// The program and arguments that run `devenv ARGS` as this user with `environment`.
    func command(_ arguments: [String], environment: [String: String]) throws -> (String, [String]) {
        guard let uid, let gid else { return (try DevenvProcess.binary, arguments) }
        let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/nonexistent"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return ("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "/usr/bin/env", "-i"] + env + [try DevenvProcess.binary] + arguments)
    }

    func devenv(_ arguments: [String], store: String, environment: [String: String] = [:], directory: String? = nil, timeout: TimeInterval? = nil) throws -> DevenvProcess.Result {
        guard uid != nil else { return try DevenvProcess.devenv(arguments, store: store, environment: environment, directory: directory, timeout: timeout) }
        let (program, full) = try command(arguments, environment: environment.merging(["DEVENV_HOME": store]) { _, new in new })
        return try DevenvProcess.run(program, full, directory: directory, timeout: timeout)
    }
}
