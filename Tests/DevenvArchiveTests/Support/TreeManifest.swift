@testable import DevenvArchive
import DevenvOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An mtree-like listing of a directory tree (RELIABILITY §0 harness notes): type, mode,
/// owner, mtime, size, content digest, link target, device number, xattrs and hardlink
/// groups of every path, for comparing a round trip with its source.
struct TreeManifest: Equatable, CustomStringConvertible {
    struct Record: Equatable {
        var type: mode_t
        var mode: mode_t
        var uid: uid_t
        var gid: gid_t
        var mtime: Int
        var size: Int
        var content: String
        var link: [UInt8]
        var device: UInt64
        var xattrs: [String]
        /// The first path (in sorted order) sharing this inode, for hardlinks.
        var linkGroup: String
    }

    var records: [String: Record] = [:]

    struct Options {
        var ownership = true
        var directoryMTimes = true
        /// Only user.* xattrs are compared unless this is set.
        var allXattrs = false
    }

    init(_ root: String, options: Options = Options()) throws {
        var inodes: [UInt64: String] = [:]
        let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
        for relative in names {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { throw SandboxError("lstat \(path)") }
            let type = info.st_mode & S_IFMT
            var record = Record(type: type, mode: info.st_mode & 0o7777, uid: options.ownership ? info.st_uid : 0,
                                gid: options.ownership ? info.st_gid : 0,
                                mtime: type == S_IFDIR && !options.directoryMTimes ? 0 : info.st_mtim.tv_sec,
                                size: type == S_IFREG ? Int(info.st_size) : 0, content: "", link: [], device: 0,
                                xattrs: [], linkGroup: "")
            if type == S_IFREG {
                record.content = Digest.sha256(FileManager.default.contents(atPath: path) ?? Data()).description
            }
            if type == S_IFLNK {
                var buffer = [CChar](repeating: 0, count: 4097)
                let count = readlink(path, &buffer, buffer.count)
                record.link = buffer.prefix(max(0, count)).map { UInt8(bitPattern: $0) }
            }
            if type == S_IFCHR || type == S_IFBLK { record.device = UInt64(info.st_rdev) }
            if type != S_IFDIR && info.st_nlink > 1 {
                record.linkGroup = inodes[UInt64(info.st_ino)] ?? relative
                inodes[UInt64(info.st_ino)] = record.linkGroup
            }
            record.xattrs = type != S_IFREG && type != S_IFDIR ? [] : try Self.xattrs(path).filter { options.allXattrs || $0.hasPrefix("user.") }
            records[relative] = record
        }
    }

    static func xattrs(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return [] }   // symlinks and the like: not compared
        defer { close(fd) }
        return try XattrIO.names(.descriptor(fd)).map { name in
            let value = try XattrIO.value(.descriptor(fd), name: name) ?? []
            return String(decoding: name, as: UTF8.self) + "=" + String(decoding: value, as: UTF8.self)
        }.sorted()
    }

    var description: String {
        records.keys.sorted().map { "\($0): \(records[$0]!)" }.joined(separator: "\n")
    }

    /// Paths whose records differ, for readable failures.
    func differences(_ other: TreeManifest) -> [String] {
        Set(records.keys).union(other.records.keys).sorted().compactMap { key in
            records[key] == other.records[key] ? nil : "\(key): \(String(describing: records[key])) vs \(String(describing: other.records[key]))"
        }
    }
}
