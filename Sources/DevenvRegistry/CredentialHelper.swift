import DevenvOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `docker-credential-NAME get|store|erase`, Docker's credential helper protocol.
/// Secrets travel on stdin and stdout only, never in arguments or the environment.
struct CredentialHelper: Sendable {
    let name: String
    let searchPath: String

    private static let outputLimit = 64 << 10
    private static let timeout: TimeInterval = 60

    init(name: String, searchPath: String) throws {
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw RegistryError(.credentials, "credential helper '\(Printable.escape(name))'", "the name may only hold letters, digits, '-', '_' and '.'")
        }
        self.name = name
        self.searchPath = searchPath
    }

    var program: String { "docker-credential-\(name)" }

    private struct Reply: Decodable {
        var Username: String?
        var Secret: String?
    }

    /// The helper's credentials for `server`, or nil when it has none.
    func get(server: String) throws -> Credentials? {
        let (status, output) = try run("get", input: Data(server.utf8))
        if status != 0 {
            let text = String(decoding: output, as: UTF8.self)
            if text.lowercased().contains("credentials not found") { return nil }
            throw RegistryError(.credentials, "\(program) get \(Printable.escape(server))", "exited with status \(status): \(Printable.escape(text, limit: 200))")
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: output), let secret = reply.Secret else {
            throw RegistryError(.credentials, "\(program) get \(Printable.escape(server))", "the helper's answer is not the expected JSON")
        }
        let username = reply.Username ?? ""
        return Credentials(username: username, secret: secret, isIdentityToken: username == "<token>")
    }

    func store(_ credentials: Credentials, server: String) throws {
        let payload: [String: String] = ["ServerURL": server,
                                         "Username": credentials.isIdentityToken ? "<token>" : credentials.username,
                                         "Secret": credentials.secret]
        let input = try JSONSerialization.data(withJSONObject: payload)
        let (status, output) = try run("store", input: input)
        guard status == 0 else {
            throw RegistryError(.credentials, "\(program) store \(Printable.escape(server))", "exited with status \(status): \(Printable.escape(String(decoding: output, as: UTF8.self), limit: 200))")
        }
    }

    func erase(server: String) throws {
        let (status, output) = try run("erase", input: Data(server.utf8))
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 || text.lowercased().contains("not found") else {
            throw RegistryError(.credentials, "\(program) erase \(Printable.escape(server))", "exited with status \(status): \(Printable.escape(text, limit: 200))")
        }
    }

    private func locate() throws -> String {
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw RegistryError(.credentials, "credential helper \(program)", "not found in PATH (docker's config.json names it in credsStore or credHelpers)")
    }

    /// Runs the helper with `input` on stdin; returns its exit status and stdout (bounded).
    private func run(_ action: String, input: Data) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try locate())
        process.arguments = [action]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            throw RegistryError(.credentials, "run \(program) \(action)", "\(error.localizedDescription)")
        }
        let collector = OutputCollector(handle: stdout.fileHandleForReading, limit: Self.outputLimit)
        collector.start()
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        if finished.wait(timeout: .now() + Self.timeout) == .timedOut {
            process.terminate()
            throw RegistryError(.timeout, "run \(program) \(action)", "no answer within \(Int(Self.timeout)) s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, collector.wait())
    }
}

/// Reads a pipe to its end on another thread, keeping at most `limit` bytes.
private final class OutputCollector: @unchecked Sendable {
    private let handle: FileHandle
    private let limit: Int
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(handle: FileHandle, limit: Int) {
        self.handle = handle
        self.limit = limit
    }

    func start() {
        DispatchQueue.global().async { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                if data.count < limit { data.append(chunk.prefix(limit - data.count)) }
            }
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
