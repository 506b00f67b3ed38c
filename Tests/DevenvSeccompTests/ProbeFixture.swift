import DevenvTestSupport
import DevenvSeccomp
import Foundation
import Testing

/// Builds and runs Tests/Fixtures/probe/probe.c, the static C probe the verification plan
/// runs inside and outside the filter.
struct ProbeFixture {
    let directory: URL
    let binary: URL

    static let source = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/probe/probe.c")

    /// Compiles the probe (`cc -static -O2 -pthread`, plus `extraFlags`) into a fresh temporary
    /// directory, runs `body`, and removes the directory.
    static func with<T>(extraFlags: [String] = [], _ body: (ProbeFixture) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("devenv-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("probe")
        let build = try ProcessResult.run("/usr/bin/env", ["cc", "-static", "-O2", "-pthread"] + extraFlags
                                          + ["-o", binary.path, source.path])
        guard build.exitStatus == 0 else {
            throw ProbeFailure("cc -static \(extraFlags.joined(separator: " ")) failed: \(build.output)")
        }
        return try body(ProbeFixture(directory: directory, binary: binary))
    }

    /// Writes a compiled filter where the probe's `--load-bpf` can read it.
    func write(_ program: SeccompProgram) throws -> URL {
        let file = directory.appendingPathComponent("filter.bpf")
        try Data(program.bytes).write(to: file)
        return file
    }

    func run(_ arguments: [String], capabilities: CapabilitySet? = nil) throws -> ProcessResult {
        guard let capabilities else { return try ProcessResult.run(binary.path, arguments) }
        return try ProcessResult.run("/usr/bin/setpriv", Self.setprivArguments(capabilities) + ["--", binary.path] + arguments)
    }

    /// The plan's control configuration: no_new_privs, no inheritable capabilities, and the
    /// bounding set reduced, so root runs with exactly `capabilities` after exec.
    static func setprivArguments(_ capabilities: CapabilitySet) -> [String] {
        let bounding = (["-all"] + capabilities.map { "+" + $0.shortName }).joined(separator: ",")
        return ["--no-new-privs", "--inh-caps=-all", "--bounding-set=" + bounding]
    }

    /// The compiler can build static binaries for the given flags (a libc.a is installed).
    static func canBuild(extraFlags: [String] = []) -> Bool {
        (try? with(extraFlags: extraFlags) { _ in true }) ?? false
    }
}

struct ProbeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A finished child process: exit status or terminating signal, and its output (stdout and
/// stderr interleaved in one pipe, so neither can fill up and stall the child).
struct ProcessResult {
    var exitStatus: Int32?
    var signal: Int32?
    var output: String

    var report: ProbeReport { ProbeReport(output) }

    static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let signaled = process.terminationReason == .uncaughtSignal
        return ProcessResult(exitStatus: signaled ? nil : process.terminationStatus,
                             signal: signaled ? process.terminationStatus : nil,
                             output: String(decoding: data, as: UTF8.self))
    }
}

/// The probe's `key=value` lines. Keys may repeat (`mount=`); `values(_:)` returns all.
struct ProbeReport {
    private(set) var pairs: [(key: String, value: String)] = []

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            pairs.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
    }

    subscript(key: String) -> String? { pairs.last { $0.key == key }?.value }

    func values(_ key: String) -> [String] { pairs.filter { $0.key == key }.map(\.value) }

    /// `sys.<row>` results by row name, in output order.
    var syscalls: [(row: String, result: String)] {
        pairs.filter { $0.key.hasPrefix("sys.") }.map { (String($0.key.dropFirst(4)), $0.value) }
    }

    var isComplete: Bool { self["probe.done"] == "1" }
}

extension Requirement {
    static var hasSetpriv: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") }
    static let canBuildProbe = ProbeFixture.canBuild()
    static let canBuildI386Probe = ProbeFixture.canBuild(extraFlags: ["-m32"])
}
