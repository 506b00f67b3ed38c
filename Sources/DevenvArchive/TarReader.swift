import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// Reads tar entries through libarchive from a pull-based byte source (a DecodedStream).
/// Only the tar formats are enabled (ustar, pax, GNU, v7), no filters: decompression is ours,
/// and anything that is not a tar fails as "unrecognized archive format".
final class TarReader {
    /// Hands out the next block of bytes, or nil at the end. A thrown error is kept and
    /// reported instead of libarchive's generic read error.
    typealias Source = () throws -> UnsafeRawBufferPointer?

    private final class Context {
        let source: Source
        var error: Error?
        init(source: @escaping Source) { self.source = source }
    }

    private let archive: OpaquePointer
    private let context: Context
    private var opened = false

    init(source: @escaping Source) throws {
        guard let archive = archive_read_new() else { throw Failure(.corrupt, "archive_read_new: out of memory") }
        self.archive = archive
        context = Context(source: source)
        archive_read_support_format_tar(archive)
        archive_read_set_read_callback(archive) { _, data, buffer in
            let context = Unmanaged<Context>.fromOpaque(data!).takeUnretainedValue()
            do {
                guard let block = try context.source() else { return 0 }
                buffer!.pointee = block.baseAddress
                return la_ssize_t(block.count)
            } catch {
                context.error = error
                return la_ssize_t(ARCHIVE_FATAL)
            }
        }
        archive_read_set_callback_data(archive, Unmanaged.passUnretained(context).toOpaque())
        guard archive_read_open1(archive) == ARCHIVE_OK else { throw failure("open") }
        opened = true
    }

    deinit {
        if opened { archive_read_close(archive) }
        archive_read_free(archive)
    }

    /// The source's own error when it failed, else libarchive's message.
    private func failure(_ what: String, entry: [UInt8]? = nil) -> Error {
        if let error = context.error { return error }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        let kind: ArchiveError.Kind = message.localizedLowercase.contains("truncated") ? .truncated : .corrupt
        return Failure(entry: entry, kind, "tar \(what): \(message)")
    }

    /// The next entry header, or nil after the end-of-archive marker (or a clean end of the
    /// stream at an entry boundary).
    func next() throws -> TarEntry? {
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(archive, &entryPointer)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry = entryPointer else {
            throw failure("header")
        }
        return try Self.convert(entry)
    }

    /// Streams the current entry's data: `body(block, offset)`. Offsets jump over holes
    /// in sparse entries.
    func readData(entry path: [UInt8], _ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(archive, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw failure("data", entry: path) }
            if size > 0 { try body(UnsafeRawBufferPointer(start: buffer, count: size), offset) }
        }
    }

    func skipData(entry path: [UInt8]) throws {
        let status = archive_read_data_skip(archive)
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw failure("data", entry: path) }
    }

    private static func convert(_ entry: OpaquePointer) throws -> TarEntry {
        guard let pathPointer = archive_entry_pathname(entry) else {
            throw Failure(.corrupt, "tar header without a name")
        }
        let path = bytes(of: pathPointer)
        var kind: TarEntry.Kind
        var target: [UInt8] = []
        if let hardlink = archive_entry_hardlink(entry) {
            kind = .hardlink
            target = bytes(of: hardlink)
        } else {
            switch archive_entry_filetype(entry) & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .directory
            case S_IFLNK:
                kind = .symlink
                target = archive_entry_symlink(entry).map { bytes(of: $0) } ?? []
            case S_IFCHR: kind = .characterDevice
            case S_IFBLK: kind = .blockDevice
            case S_IFIFO: kind = .fifo
            case S_IFSOCK: kind = .socket
            default: kind = .file
            }
        }
        var xattrs: [Xattr] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
                guard let name else { continue }
                let valueBytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs.append(Xattr(name: bytes(of: name), value: valueBytes))
            }
        }
        let mtime = timespec(tv_sec: Int(archive_entry_mtime(entry)), tv_nsec: Int(archive_entry_mtime_nsec(entry)))
        let atime = archive_entry_atime_is_set(entry) != 0
            ? timespec(tv_sec: Int(archive_entry_atime(entry)), tv_nsec: Int(archive_entry_atime_nsec(entry))) : nil
        return TarEntry(
            path: path, kind: kind,
            permissions: archive_entry_perm(entry) & 0o7777,
            uid: archive_entry_uid(entry), gid: archive_entry_gid(entry),
            size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0,
            mtime: mtime, atime: atime, linkTarget: target,
            deviceMajor: UInt64(archive_entry_rdevmajor(entry)), deviceMinor: UInt64(archive_entry_rdevminor(entry)),
            xattrs: xattrs)
    }
}
