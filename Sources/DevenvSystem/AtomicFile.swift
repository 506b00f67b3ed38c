import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe file replacement: write a temp file in the same directory, fsync it,
/// rename it over the target and fsync the directory. Readers see the old or the new
/// content, never a truncated file.
public enum AtomicFile {
    /// `durable: false` skips the fsyncs, for files that matter only while their writer
    /// lives (a lease): still never torn, but not guaranteed to survive a power cut.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
        let directory = PathName.parent(path)
        let temp = "\(directory)/.tmp-\(UUID().uuidString)-\(PathName.lastComponent(path))"
        do {
            let file = try FileDescriptor.open(temp, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
            try data.withUnsafeBytes { (buffer) throws in try file.writeAll(buffer, path: temp) }
            if durable { try file.fsync() }
            try rename(temp, to: path)
        } catch {
            unlink(temp)
            throw error
        }
        if durable { try syncDirectory(directory) }
    }

    public static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw SystemError.last("rename \(Errno.quote(from)) to", path: to) }
    }

    public static func syncDirectory(_ path: String) throws {
        let directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        try directory.fsync()
    }
}
