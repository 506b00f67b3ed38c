@testable import DevenvTestSupport
import DevenvOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A registry that a real one cannot imitate: it serves one image (a config and a 100-byte
/// layer) and answers chosen paths with bodies that never end, lie about their length, or
/// echo the request's credentials back (issue 11 items 9 and 10).
final class HostileRegistry: @unchecked Sendable {
    enum Answer {
        /// The normal answer for the path.
        case normal
        /// The status, then a chunked body of 'a' that ends only when the client goes away.
        case endless(status: Int, headers: [String: String] = [:])
        /// A head declaring `length` bytes, then an endless body.
        case lying(status: Int, length: Int64)
        case respond(status: Int, headers: [String: String], body: Data)
    }

    /// The answer for a request; nil means `.normal`.
    typealias Rule = @Sendable (_ request: WireConnection.Request, _ registry: HostileRegistry) -> Answer?

    let layer = Data(repeating: 0x61, count: 100)
    private(set) var config = Data()
    private(set) var manifest = Data()
    var layerDigest: Digest { Digest.sha256(layer) }
    private let rule: Rule
    private var server: LoopbackServer?

    init(rule: @escaping Rule) throws {
        self.rule = rule
        config = OCIDocument.encode(ImageConfig(diffIDs: [Digest.sha256(Data("diff".utf8))]))
        let configDescriptor = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(config), size: Int64(config.count))
        let layerDescriptor = Descriptor(mediaType: MediaType.layerTarGzip, digest: Digest.sha256(layer), size: Int64(layer.count))
        manifest = OCIDocument.encode(ImageManifest(config: configDescriptor, layers: [layerDescriptor]))
        server = try LoopbackServer { [unowned self] connection in handle(connection) }
    }

    deinit { stop() }

    var authority: String { server?.authority ?? "" }
    var reference: String { "\(authority)/team/app:1" }

    func stop() { server?.stop() }

    private func handle(_ connection: WireConnection) {
        // One request per connection (every answer closes it).
        guard let request = connection.readRequest() else { return }
        switch rule(request, self) ?? .normal {
        case .normal:
            if request.path.hasSuffix("/manifests/1") {
                connection.respond(status: 200, headers: ["Content-Type": MediaType.imageManifest], body: manifest)
            } else if request.path.hasSuffix("/blobs/\(Digest.sha256(config))") {
                connection.respond(status: 200, headers: [:], body: config)
            } else if request.path.hasSuffix("/blobs/\(layerDigest)") {
                connection.respond(status: 200, headers: [:], body: layer)
            } else {
                connection.respond(status: 200, headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
            }
        case let .endless(status, headers):
            var head = "HTTP/1.1 \(status) \(WireConnection.reason(status))\r\nTransfer-Encoding: chunked\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            endless(connection, head: head + "\r\n")
        case let .lying(status, length):
            endless(connection, head: "HTTP/1.1 \(status) \(WireConnection.reason(status))\r\nContent-Length: \(length)\r\n\r\n", chunked: false)
        case let .respond(status, headers, body):
            connection.respond(status: status, headers: headers, body: body, head: request.method == "HEAD")
        }
    }

    /// Writes until the peer stops reading or closes (or the server stops).
    private func endless(_ connection: WireConnection, head: String, chunked: Bool = true) {
        guard connection.write(head) else { return }
        let chunk = Data(repeating: 0x61, count: 64 << 10)
        let frame = chunked ? Data("\(String(chunk.count, radix: 16))\r\n".utf8) + chunk + Data("\r\n".utf8) : chunk
        while !(server?.isStopped ?? true), connection.write(frame) {}
    }
}

/// A child process run to its end with its peak resident memory, killed if it outlives
/// `timeout` or grows past `killAboveBytes`. The peak is the child's `VmHWM` polled every
/// 10 ms: `wait4`'s `ru_maxrss` cannot be used, because posix_spawn's child shares the test
/// process's memory until it execs and the kernel counts that high-water mark too.
struct MeasuredProcess {
    var status: Int32
    var stdout: String
    var stderr: String
    var stderrBytes: [UInt8]
    var peakResidentBytes: Int
    var seconds: TimeInterval
    var timedOut: Bool

    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60,
                    killAboveBytes: Int = 1 << 30) throws -> MeasuredProcess {
        let scratch = try Scratch("measured")
        let outPath = scratch.file("out"), errPath = scratch.file("err")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard spawned == 0 else { throw TestFailure("posix_spawn \(program): errno \(spawned)") }
        let started = Date()
        var timedOut = false
        var status: Int32 = 0
        var polledPeak = 0
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
                polledPeak = max(polledPeak, kilobytes * 1024)
            }
            // Do not let the code under test take the machine down with it.
            if Date().timeIntervalSince(started) > timeout || polledPeak > killAboveBytes {
                timedOut = Date().timeIntervalSince(started) > timeout
                kill(pid, SIGKILL)
            }
            usleep(10_000)
        }
        let stderrBytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data())
        return MeasuredProcess(status: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                               stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                               stderr: String(decoding: stderrBytes, as: UTF8.self), stderrBytes: stderrBytes,
                               peakResidentBytes: polledPeak,
                               seconds: Date().timeIntervalSince(started), timedOut: timedOut)
    }
}
