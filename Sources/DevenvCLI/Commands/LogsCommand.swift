import ArgumentParser
import DevenvKit
import DevenvOCI
import DevenvRuntime
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a service's output (stdout and stderr, the last 8 MiB at most); -f keeps following it.",
        discussion: "On a terminal, control characters in the output are escaped. Exits 0, or 1 when the service has never run.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The service.", valueName: "SERVICE"))
    var name: String

    @Flag(name: [.customShort("f"), .long], help: "Keep printing what it writes until it stops (or Ctrl-C).")
    var follow = false

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Only the last N lines.", valueName: "N"))
    var tail: Int?

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more") }
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let root = try ProjectLocator.load(from: try HostPath.currentDirectory()).root
            let services = ProjectServices(layout: engine.store.layout, root: root)
            let files = services.logFiles(name)
            guard !files.isEmpty else {
                Terminal.error("devenv: error: service '\(Printable.escape(name))' has no log: it has not run in this project")
                throw ExitCode(1)
            }
            var output = LogOutput(escaping: isatty(STDOUT_FILENO) == 1)
            let contents = files.map { (try? FileDescriptor.readRegularFile($0, limit: 1 << 24, flags: O_NOFOLLOW)) ?? [] }
            let bytes = Array(contents.joined())
            output.write(tail.map { Self.lastLines(bytes, $0) } ?? bytes)
            defer { output.finish() }
            guard follow else { return }
            // Following goes on from the end of the current log, the last file read.
            try Self.follow("\(services.logDirectory)/\(ServiceState.logName(name))", from: contents.last?.count ?? 0,
                            while: { services.running()[name] != nil }, output: &output)
        }
    }

    /// The last `count` lines of `bytes`.
    static func lastLines(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var end = bytes.count
        if bytes.last == 0x0A { end -= 1 }
        var seen = 0
        var index = end
        while index > 0 {
            index -= 1
            if bytes[index] == 0x0A {
                seen += 1
                if seen == count { return Array(bytes[(index + 1)...]) }
            }
        }
        return bytes
    }

    /// Prints what is appended to `path` (following its rotation) while `running` holds, and
    /// what is left once it stops.
    static func follow(_ path: String, from start: Int, while running: () -> Bool, output: inout LogOutput) throws {
        var offset = start
        var inode = Self.inode(path)
        var stopped = false
        while true {
            if Self.inode(path) != inode {
                inode = Self.inode(path)
                offset = 0
            }
            if let descriptor = try? FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW) {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { pread(descriptor.raw, $0.baseAddress, $0.count, off_t(offset)) }
                    guard count > 0 else { break }
                    output.write(Array(buffer[0..<count]))
                    offset += count
                }
            }
            if stopped { return }
            if !running() { stopped = true; continue }
            usleep(200_000)
        }
    }

    static func inode(_ path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : 0
    }
}

/// A service's bytes to stdout: as they are into a pipe or file; on a terminal, lines with
/// control characters escaped (tabs and newlines kept), so a service cannot drive it.
struct LogOutput {
    let escaping: Bool
    private var pending: [UInt8] = []

    init(escaping: Bool) { self.escaping = escaping }

    /// A last line without its newline.
    mutating func finish() {
        guard !pending.isEmpty else { return }
        pending.append(0x0A)
        write([])
    }

    mutating func write(_ bytes: [UInt8]) {
        guard escaping else {
            try? FileDescriptor.writeAll(STDOUT_FILENO, bytes)
            return
        }
        pending += bytes
        guard let last = pending.lastIndex(of: 0x0A) else { return }
        let complete = pending[...last]
        pending.removeSubrange(...last)
        let text = complete.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
            .map { Printable.escape(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "\t", with: "    "), limit: 1 << 16) + "\n" }
            .joined()
        try? FileDescriptor.writeAll(STDOUT_FILENO, Array(text.utf8))
    }
}
