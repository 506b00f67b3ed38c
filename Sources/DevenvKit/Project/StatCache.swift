import DevenvBuild
import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Remembers file digests by (size, mtime, ctime, inode), as git's index does, so a no-op
/// build stats the copied files instead of reading them. A file whose stat changed, or
/// whose mtime is too recent to trust (same second as the cache was written), is hashed.
final class StatCache {
    struct Entry: Codable {
        var size: Int64
        var mtime: Int64
        var ctime: Int64
        var inode: UInt64
        var digest: Digest
    }

    private let path: String
    private var entries: [String: Entry]
    private var dirty = false
    private let started = Int64(Date().timeIntervalSince1970 * 1_000_000_000)

    init(path: String) {
        self.path = path
        if let bytes = try? FileDescriptor.readRegularFile(path, limit: 256 << 20, flags: O_NOFOLLOW),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: Data(bytes)) {
            entries = decoded
        } else {
            entries = [:]
        }
    }

    /// The input record for the file or symlink at `absolute`, reported as `relative`.
    /// `remember`: false for a path used once (a digest kept for it would never be read).
    func input(absolute: String, relative: String, remember: Bool = true) throws -> BuildInput {
        var info = stat()
        guard lstat(absolute, &info) == 0 else { throw SystemError.last("stat", path: absolute) }
        let mode = UInt32(info.st_mode) & 0o7777
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            return BuildInput(path: relative, kind: .directory, digest: nil, mode: mode)
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: absolute)
            return BuildInput(path: relative, kind: .symlink, digest: Digest.sha256(Data(target.utf8)), mode: mode)
        case S_IFREG:
            return BuildInput(path: relative, kind: .file, digest: remember ? try digest(absolute, info) : try FileDigest.sha256(of: absolute), mode: mode)
        default:
            throw SystemError("copy", path: absolute, errno: EINVAL, reason: "is \(FileDescriptor.kind(info.st_mode)), not a regular file, directory or symlink")
        }
    }

    private func digest(_ path: String, _ info: stat) throws -> Digest {
        let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let ctime = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        if let entry = entries[path], entry.size == Int64(info.st_size), entry.mtime == mtime,
           entry.ctime == ctime, entry.inode == UInt64(info.st_ino) {
            return entry.digest
        }
        let digest = try FileDigest.sha256(of: path)
        // A file modified within the last second could change again without its mtime
        // moving (coarse timestamps); don't remember it, as git does with racy entries.
        if started - ctime > 1_000_000_000 {
            entries[path] = Entry(size: Int64(info.st_size), mtime: mtime, ctime: ctime, inode: UInt64(info.st_ino), digest: digest)
            dirty = true
        }
        return digest
    }

    func save() {
        guard dirty else { return }
        try? AtomicFile.write(OCIDocument.encode(entries), to: path, mode: 0o600)
        dirty = false
    }
}
