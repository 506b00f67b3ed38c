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

/// One test's devenv: who runs it (`DevenvUser`) and the store it uses. Root gets a store
/// directory in the scratch (`DEVENV_HOME`); the test user gets a home of its own there, and
/// its runs use that home's default store, `~/.local/share/devenv`, as a developer's do.
/// Everything in the scratch belongs to the user (`own` hands over what the test adds).
struct DevenvRunner {
    let user: DevenvUser
    let account: TestUser?
    let store: String
    /// HOME for the test user's runs (nil as root: the test process's environment).
    let home: String?

    /// `store`: a store path of the test's choosing (shared between tests, or a second
    /// store), else the default for `user` inside `scratch`.
    init(_ user: DevenvUser, scratch: Scratch, store: String? = nil) throws {
        try self.init(user, account: try user.account(), scratch: scratch, store: store)
    }

    /// Rootless as `account` (another unprivileged user than `devenv-test`).
    init(account: TestUser, scratch: Scratch) throws {
        try self.init(.rootless, account: account, scratch: scratch, store: nil)
    }

    private init(_ user: DevenvUser, account: TestUser?, scratch: Scratch, store: String?) throws {
        self.user = user
        self.account = account
        if let account {
            let home = scratch.file("home")
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            self.home = home
            self.store = store ?? "\(home)/.local/share/devenv"
            try account.own(scratch.path)
        } else {
            home = nil
            self.store = store ?? scratch.file("store")
        }
    }

    var label: String { user.description }

    /// Gives `path` and everything below it to the test user (nothing as root).
    func own(_ path: String) throws {
        try account?.own(path)
    }

    /// The program and arguments that run `devenv ARGS` as the user with `environment`.
    func command(_ arguments: [String], environment: [String: String] = [:]) throws -> (String, [String]) {
        let binary = try DevenvProcess.binary
        var variables = environment
        if store != home.map({ "\($0)/.local/share/devenv" }) { variables["DEVENV_HOME"] = store }
        guard let account else {
            return ("/usr/bin/env", variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [binary] + arguments)
        }
        return account.command(binary, arguments, home: home, environment: variables)
    }

    func devenv(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil, directory: String? = nil,
                timeout: TimeInterval? = nil) throws -> DevenvProcess.Result {
        let (program, line) = try command(arguments, environment: environment)
        return try DevenvProcess.run(program, line, stdin: stdin, directory: directory, timeout: timeout)
    }

    /// Starts `devenv ARGS` without waiting; its stdout goes to the file `output`, its stderr
    /// to `output`.err.
    func start(_ arguments: [String], directory: String? = nil, output: String) throws -> Process {
        let (program, line) = try command(arguments)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = line
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        for file in [output, output + ".err"] { FileManager.default.createFile(atPath: file, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output + ".err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
