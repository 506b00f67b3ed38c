import DevenvRuntime
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// An env file in docker's format (`docker run --env-file`, moby `opts/file.go`): one
/// `KEY=VALUE` per line, taken literally (no quote removal, no `$` expansion, the value's
/// whitespace kept); leading whitespace and a UTF-8 byte order mark are dropped; empty
/// lines and lines starting with `#` are skipped; a bare `KEY` passes the host's value, and
/// is dropped when the host has none. A name containing whitespace, or an empty name, is an
/// error, as docker's.
public enum EnvFile {
    /// Larger files are refused: an env file is a handful of lines.
    public static let sizeLimit = 1 << 20

    /// The `KEY=VALUE` entries of `text`, in order. `path` only names the file in errors.
    public static func parse(_ text: String, path: String, host: [String: String]) throws -> [String] {
        var entries: [String] = []
        // "\r\n" is one Character: split on it too (docker's scanner drops the "\r").
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        for (offset, raw) in lines.enumerated() {
            let line = raw.drop { $0.isWhitespace }
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let name: Substring
            let value: Substring?
            if let equals = line.firstIndex(of: "=") {
                name = line[..<equals]
                value = line[line.index(after: equals)...]
            } else {
                name = line
                value = nil
            }
            let where_ = "env file \(ContainerPath.quote(path)) line \(offset + 1)"
            guard !name.isEmpty else { throw RuntimeError.invalid("\(where_): no variable name in \(ContainerPath.quote(String(line)))") }
            guard !name.contains(where: \.isWhitespace) else {
                throw RuntimeError.invalid("\(where_): variable \(ContainerPath.quote(String(name))) contains whitespace")
            }
            if let value {
                entries.append("\(name)=\(value)")
            } else if let hostValue = host[String(name)] {
                entries.append("\(name)=\(hostValue)")
            }
        }
        return entries
    }

    /// The file at `path` (absolute), read and parsed; an unreadable file or one that is not
    /// UTF-8 is an error naming it.
    public static func read(_ path: String, host: [String: String]) throws -> [String] {
        let bytes: [UInt8]
        do {
            bytes = try FileDescriptor.readRegularFile(path, limit: sizeLimit, operation: "read env file")
        } catch {
            throw RuntimeError.invalid("\(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RuntimeError.invalid("env file \(ContainerPath.quote(path)) is not UTF-8 text")
        }
        return try parse(text, path: path, host: host)
    }
}
