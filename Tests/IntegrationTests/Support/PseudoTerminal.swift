import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with stderr on a pseudo-terminal of a given width, as a user's terminal
/// would be, and replays what it drew on a minimal terminal model to get the final text.
enum PseudoTerminal {
    struct Result {
        var status: Int32
        /// What the terminal shows at the end (scrollback included), one string per row.
        var screen: [String]
        var raw: String
        var stdout: String
    }

    static func run(_ program: String, _ arguments: [String], columns: Int, environment: [String: String] = [:], directory: String? = nil) throws -> Result {
        // posix_openpt and friends are not in Swift's Glibc module: /dev/ptmx and its ioctls.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0,
              withUnsafeMutablePointer(to: &unlock, { ioctl(master, 0x4004_5431 /* TIOCSPTLCK */, $0) }) == 0,
              withUnsafeMutablePointer(to: &number, { ioctl(master, 0x8004_5430 /* TIOCGPTN */, $0) }) == 0 else {
            throw DevenvProcess.Missing(what: "a pseudo-terminal (/dev/ptmx)")
        }
        let name = "/dev/pts/\(number)"
        defer { close(master) }
        var size = winsize(ws_row: 24, ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = withUnsafeMutablePointer(to: &size) { ioctl(master, 0x5414 /* TIOCSWINSZ */, $0) }
        let slave = open(name, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw DevenvProcess.Missing(what: "the pseudo-terminal's other end") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        try process.run()
        close(slave)
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(master, &buffer, buffer.count)
                if count <= 0 { break }  // EIO once every holder of the other end is gone
                collected.bytes += buffer[0..<count]
            }
            group.leave()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        group.wait()
        let raw = String(decoding: collected.bytes, as: UTF8.self)
        return Result(status: process.terminationStatus, screen: replay(raw, columns: columns), raw: raw, stdout: String(decoding: stdout, as: UTF8.self))
    }

    private final class Collected: @unchecked Sendable { var bytes: [UInt8] = [] }

    /// Printable text with auto-wrap at `columns`, CR, LF, cursor up (CSI n A), erase to the
    /// end of the screen (CSI J) and of the line (CSI K, 2K); other sequences are ignored.
    static func replay(_ text: String, columns: Int) -> [String] {
        var rows: [[Character]] = [[]]
        var row = 0
        var column = 0
        // Scalars, not Characters: "\r\n" is one Character.
        var characters = Array(text.unicodeScalars)[...]
        func ensure() { while rows.count <= row { rows.append([]) } }
        while let character = characters.popFirst() {
            switch character {
            case "\r": column = 0
            case "\n":
                row += 1
                ensure()
            case "\u{1b}":
                guard characters.first == "[" else { continue }
                characters.removeFirst()
                var parameter = ""
                while let next = characters.first, ("0"..."9").contains(next) || next == ";" { parameter.append(Character(characters.removeFirst())) }
                guard let command = characters.popFirst() else { break }
                switch command {
                case "A": row = max(0, row - (Int(parameter) ?? 1))
                case "J":
                    rows[row] = Array(rows[row].prefix(column))
                    rows.removeSubrange((row + 1)...)
                case "K":
                    rows[row] = parameter == "2" ? [] : Array(rows[row].prefix(column))
                default: break
                }
            default:
                if column >= columns {
                    row += 1
                    column = 0
                    ensure()
                }
                while rows[row].count < column { rows[row].append(" ") }
                if column < rows[row].count { rows[row][column] = Character(character) } else { rows[row].append(Character(character)) }
                column += 1
            }
        }
        return rows.map { String($0) }
    }
}
