@testable import DevenvRuntime
import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A service's log stays within two files of its limit, keeps the newest output, and its
/// state file round-trips; no privileges needed.
@Suite struct ServiceLogTests {
    private func directory() throws -> (path: String, descriptor: Int32) {
        let path = NSTemporaryDirectory() + "service-log-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return (path, try FileDescriptor.openRaw(path, O_RDONLY | O_DIRECTORY))
    }

    private func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : -1
    }

    @Test func rotatesAtTheLimitAndKeepsTheNewest() throws {
        let (path, descriptor) = try directory()
        defer { close(descriptor); try? FileManager.default.removeItem(atPath: path) }
        var log = ServiceLog(directory: descriptor, name: "db", limit: 4096, owner: nil)
        for line in 0..<1000 { log.append(Array("line \(line) of the service's output\n".utf8)) }
        let current = size("\(path)/db.log")
        let previous = size("\(path)/db.log.1")
        #expect(current > 0 && current <= 4096 && previous > 0 && previous <= 4096, "\(current) \(previous)")
        let text = try String(contentsOfFile: "\(path)/db.log", encoding: .utf8)
        #expect(text.hasSuffix("line 999 of the service's output\n"))
        #expect(!FileManager.default.fileExists(atPath: "\(path)/db.log.2"))
    }

    @Test func aReopenedLogAppendsAndCountsWhatIsThere() throws {
        let (path, descriptor) = try directory()
        defer { close(descriptor); try? FileManager.default.removeItem(atPath: path) }
        var first = ServiceLog(directory: descriptor, name: "web", limit: 4096, owner: nil)
        first.append(Array(String(repeating: "a", count: 3000).utf8))
        var second = ServiceLog(directory: descriptor, name: "web", limit: 4096, owner: nil)
        second.append(Array(String(repeating: "b", count: 2000).utf8))
        #expect(size("\(path)/web.log.1") == 3000 && size("\(path)/web.log") == 2000)
    }

    @Test func stateIsWrittenWholeAndRead() throws {
        let (path, descriptor) = try directory()
        defer { close(descriptor); try? FileManager.default.removeItem(atPath: path) }
        #expect(ServiceState.read(service: "db", in: path) == nil)
        let state = ServiceState(phase: .restarting, restarts: 2, lastExit: "exited with status 1", lastExitCode: 1, since: 1_700_000_000)
        state.write(service: "db", directory: descriptor)
        #expect(ServiceState.read(service: "db", in: path) == state)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["db.state"], "no temporary file is left")
    }
}
