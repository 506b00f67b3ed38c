@testable import DevenvArchive
import DevenvSystem
import DevenvOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An mtree-like listing of a directory tree: type, mode,
/// owner, mtime, size, content digest, link target, device number, xattrs and hardlink
/// groups of every path, for comparing a round trip with its source. Walks with plain
/// opendir/readdir on byte paths (independent of the code under test); keys are escaped.
struct TreeManifest: Equatable {
    struct Record: Equatable {
        var type: mode_t
        var mode: mode_t
        var uid: uid_t
        var gid: gid_t
        var mtime: Int
        var size: Int
        var content: Digest?
        var link: [UInt8]
        var device: UInt64
        var xattrs: [String]
        /// The first path (in sorted order) sharing this inode, for hardlinks.
        var linkGroup: String
    }

    struct Options {
        var ownership = true
        /// Only user.* xattrs are compared unless this is set.
        var allXattrs = false
    }

    var records: [String: Record] = [:]

    init(_ root: String, options: Options = Options()) throws {
        var inodes: [UInt64: String] = [:]
        for relative in try Self.paths(Array(root.utf8), prefix: []).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let path = Array(root.utf8) + [0x2f] + relative
            let key = Printable.escape(bytes: relative, limit: 10_000)
            var info = stat()
            guard withCString(path, { lstat($0, &info) }) == 0 else { throw SandboxError("lstat \(key)") }
            let type = info.st_mode & S_IFMT
            var record = Record(type: type, mode: info.st_mode & 0o7777, uid: options.ownership ? info.st_uid : 0,
                                gid: options.ownership ? info.st_gid : 0, mtime: info.st_mtim.tv_sec,
                                size: type == S_IFREG ? Int(info.st_size) : 0, content: nil, link: [], device: 0,
                                xattrs: [], linkGroup: "")
            if type == S_IFREG || type == S_IFDIR {
                let fd = withCString(path) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
                guard fd >= 0 else { throw SandboxError("open \(key)") }
                defer { close(fd) }
                if type == S_IFREG { record.content = try Self.digest(fd) }
                record.xattrs = try XattrIO.names(.descriptor(fd)).compactMap { name in
                    let text = String(decoding: name, as: UTF8.self)
                    guard options.allXattrs || text.hasPrefix("user.") else { return nil }
                    return text + "=" + Printable.escape(bytes: try XattrIO.value(.descriptor(fd), name: name) ?? [])
                }.sorted()
            }
            if type == S_IFLNK {
                var buffer = [CChar](repeating: 0, count: 4097)
                let count = withCString(path) { readlink($0, &buffer, buffer.count) }
                record.link = buffer.prefix(max(0, count)).map { UInt8(bitPattern: $0) }
            }
            if type == S_IFCHR || type == S_IFBLK { record.device = UInt64(info.st_rdev) }
            if type != S_IFDIR && info.st_nlink > 1 {
                record.linkGroup = inodes[UInt64(info.st_ino)] ?? key
                inodes[UInt64(info.st_ino)] = record.linkGroup
            }
            records[key] = record
        }
    }

    /// "name=value" for every xattr of a file or directory, sorted.
    static func xattrs(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError("open \(path)") }
        defer { close(fd) }
        return try XattrIO.names(.descriptor(fd)).map { name in
            String(decoding: name, as: UTF8.self) + "=" + Printable.escape(bytes: try XattrIO.value(.descriptor(fd), name: name) ?? [])
        }.sorted()
    }

    private static func paths(_ root: [UInt8], prefix: [UInt8]) throws -> [[UInt8]] {
        let directory = prefix.isEmpty ? root : root + [0x2f] + prefix
        guard let stream = withCString(directory, { opendir($0) }) else { throw SandboxError("opendir") }
        defer { closedir(stream) }
        var result: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name: [UInt8] = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)))) }
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            let relative = prefix.isEmpty ? name : prefix + [0x2f] + name
            result.append(relative)
            if entry.pointee.d_type == UInt8(DT_DIR) { result += try paths(root, prefix: relative) }
        }
        return result
    }

    private static func digest(_ fd: Int32) throws -> Digest {
        var hasher = DigestHasher(.sha256)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(fd, &buffer, buffer.count)
            guard count >= 0 else { throw SandboxError("read") }
            if count == 0 { return hasher.finalize() }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }

    /// Paths whose records differ, for readable failures.
    func differences(_ other: TreeManifest) -> [String] {
        Set(records.keys).union(other.records.keys).sorted().compactMap { key in
            records[key] == other.records[key] ? nil
                : "\(key): \(records[key].map { "\($0)" } ?? "missing") vs \(other.records[key].map { "\($0)" } ?? "missing")"
        }
    }
}
