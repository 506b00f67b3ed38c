import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's docker-registry (distribution 2.8) on a free loopback port with its own
/// storage, optionally behind htpasswd (bcrypt) or token authentication. `stop()` ends it.
final class TestRegistry: @unchecked Sendable {
    enum Auth {
        case none
        case htpasswd(user: String, password: String)
        case token(TokenServer)
    }

    let port: UInt16
    let scratch: Scratch
    private let process: Process

    var authority: String { "127.0.0.1:\(port)" }

    init(auth: Auth = .none) throws {
        scratch = try Scratch("registry")
        var lastError: Error = TestFailure("docker-registry did not start")
        for _ in 0..<3 {
            let port = try Self.freePort()
            let process = try Self.start(port: port, auth: auth, scratch: scratch)
            if Self.waitUntilServing(port: port, process: process) {
                self.port = port
                self.process = process
                return
            }
            process.terminate()
            process.waitUntilExit()
            lastError = TestFailure("docker-registry did not come up on port \(port): \((try? String(contentsOfFile: scratch.file("registry.log"), encoding: .utf8)) ?? "")")
        }
        throw lastError
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    private static func start(port: UInt16, auth: Auth, scratch: Scratch) throws -> Process {
        try FileManager.default.createDirectory(atPath: scratch.file("data"), withIntermediateDirectories: true)
        var config = """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(scratch.file("data"))
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)

        """
        switch auth {
        case .none:
            break
        case let .htpasswd(user, password):
            let line = try Tools.run("htpasswd", ["-nbB", user, password]).trimmingCharacters(in: .whitespacesAndNewlines)
            try (line + "\n").write(toFile: scratch.file("htpasswd"), atomically: true, encoding: .utf8)
            config += """
            auth:
              htpasswd:
                realm: devenv-test
                path: \(scratch.file("htpasswd"))

            """
        case let .token(server):
            config += """
            auth:
              token:
                realm: \(server.realm)
                service: \(server.service)
                issuer: \(server.issuer)
                rootcertbundle: \(server.certificatePath)

            """
        }
        try config.write(toFile: scratch.file("config.yml"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", scratch.file("config.yml")]
        FileManager.default.createFile(atPath: scratch.file("registry.log"), contents: nil)
        let log = FileHandle(forWritingAtPath: scratch.file("registry.log"))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static func waitUntilServing(port: UInt16, process: Process) -> Bool {
        for _ in 0..<100 {
            if !process.isRunning { return false }
            if let status = Tools.httpStatus(port: port, path: "/v2/"), status == 200 || status == 401 { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    static func freePort() throws -> UInt16 {
        let server = try LoopbackServer { _ in }
        let port = server.port
        server.stop()
        return port
    }
}

/// A temporary directory removed when the value goes away.
final class Scratch: @unchecked Sendable {
    let path: String

    init(_ label: String = "devenv-registry-test") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// rm -rf: trees made by containers can hold directories without write permission.
    deinit {
        let remove = Process()
        remove.executableURL = URL(fileURLWithPath: "/bin/rm")
        remove.arguments = ["-rf", path]
        try? remove.run()
        remove.waitUntilExit()
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }
}

enum Tools {
    /// Runs a program (found in PATH) and returns its stdout; throws on a non-zero exit.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> String {
        let result = try execute(program, arguments, stdin: stdin, environment: environment)
        guard result.status == 0 else {
            throw TestFailure("\(program) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func execute(_ program: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : try which(program))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let scratch = try Scratch("tool")
        FileManager.default.createFile(atPath: scratch.file("out"), contents: nil)
        FileManager.default.createFile(atPath: scratch.file("err"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: scratch.file("out"))
        process.standardError = FileHandle(forWritingAtPath: scratch.file("err"))
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: scratch.file("out"), encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: scratch.file("err"), encoding: .utf8)) ?? "")
    }

    static func which(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw TestFailure("missing program '\(name)' (.ci/install-deps installs what the tests need)")
    }

    static func has(_ name: String) -> Bool { (try? which(name)) != nil }

    /// The status of `GET path` on 127.0.0.1:port, or nil if nothing answers.
    static func httpStatus(port: UInt16, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let connection = WireConnection(fd: fd)
        connection.write("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        guard let head = connection.readHead(), let status = head.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return status
    }
}
