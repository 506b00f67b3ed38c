import DevenvTestSupport
import Foundation
import Testing

/// The front end hands everything it does not start itself to devenv-core beside it.
@Suite struct FrontDoorTests {

    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func otherCommandsReachTheCore() throws {
        let front = try BuildProducts.executable()
        let version = try run(front, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "0.1.0\n")
        let help = try run(front, ["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--mount-dir"))
    }

    @Test func aMissingCoreIsAClearError() throws {
        let front = try BuildProducts.executable()
        let alone = NSTemporaryDirectory() + "devenv-front-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: alone, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: alone) }
        try FileManager.default.copyItem(atPath: front, toPath: alone + "/devenv")
        let result = try run(alone + "/devenv", ["image", "ls"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("devenv: error: run \(alone)/devenv-core: no such file or directory (ENOENT)"))
        #expect(result.stderr.contains("hint: devenv and devenv-core are installed together"))
    }
}
