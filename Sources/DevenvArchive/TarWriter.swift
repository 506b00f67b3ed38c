import CArchive
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes a PAX tar stream through libarchive (`pax_restricted`: plain ustar headers, with
/// an extended header only when a name, size, id or xattr needs one). Entries come from our
/// own stat and xattr reads; libarchive never touches the disk. No blocking: the stream ends
/// with the two zero blocks and no padding, like Go's archive/tar.
final class TarWriter {
    typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    private final class Context {
        let sink: Sink
        var error: Error?
        init(sink: @escaping Sink) { self.sink = sink }
    }

    private let archive: OpaquePointer
    private let entry: OpaquePointer
    private let context: Context
    private var closed = false

    init(sink: @escaping Sink) throws {
        guard let archive = archive_write_new(), let entry = archive_entry_new() else {
            throw Failure(.corrupt, "archive_write_new: out of memory")
        }
        self.archive = archive
        self.entry = entry
        context = Context(sink: sink)
        archive_write_set_format_pax_restricted(archive)
        // SCHILY.xattr only (what Go, containerd and GNU tar read), not libarchive's base64 copy.
        archive_write_set_format_option(archive, "pax", "xattrheader", "SCHILY")
        archive_write_set_bytes_per_block(archive, 0)
        let status = archive_write_open2(archive, Unmanaged.passUnretained(context).toOpaque(), nil, { _, data, buffer, length in
            let context = Unmanaged<Context>.fromOpaque(data!).takeUnretainedValue()
            do {
                try context.sink(UnsafeRawBufferPointer(start: buffer, count: length))
                return la_ssize_t(length)
            } catch {
                context.error = error
                return -1
            }
        }, nil, nil)
        guard status == ARCHIVE_OK else { throw failure("open") }
    }

    deinit {
        archive_entry_free(entry)
        archive_write_free(archive)
    }

    private func failure(_ what: String) -> Error {
        if let error = context.error { return error }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return Failure(.corrupt, "tar \(what): \(message)")
    }

    /// Writes a header. Regular files must be followed by exactly `size` bytes of `data`.
    func header(_ header: TarEntry) throws {
        archive_entry_clear(entry)
        withCString(header.path) { archive_entry_copy_pathname(entry, $0) }
        archive_entry_set_perm(entry, header.permissions)
        archive_entry_set_uid(entry, header.uid)
        archive_entry_set_gid(entry, header.gid)
        archive_entry_set_mtime(entry, time_t(header.mtime.tv_sec), 0)
        switch header.kind {
        case .file:
            archive_entry_set_filetype(entry, Glibc.S_IFREG)
            archive_entry_set_size(entry, header.size)
        case .hardlink:
            archive_entry_set_filetype(entry, Glibc.S_IFREG)
            withCString(header.linkTarget) { archive_entry_copy_hardlink(entry, $0) }
            archive_entry_set_size(entry, 0)
        case .directory:
            archive_entry_set_filetype(entry, Glibc.S_IFDIR)
        case .symlink:
            archive_entry_set_filetype(entry, Glibc.S_IFLNK)
            withCString(header.linkTarget) { archive_entry_copy_symlink(entry, $0) }
        case .characterDevice, .blockDevice:
            archive_entry_set_filetype(entry, header.kind == .characterDevice ? Glibc.S_IFCHR : Glibc.S_IFBLK)
            archive_entry_set_rdevmajor(entry, dev_t(header.deviceMajor))
            archive_entry_set_rdevminor(entry, dev_t(header.deviceMinor))
        case .fifo:
            archive_entry_set_filetype(entry, Glibc.S_IFIFO)
        case .socket:
            throw Failure(entry: header.path, .unsupportedInput, "sockets cannot be stored in a tar")
        }
        for xattr in header.xattrs {
            withCString(xattr.name) { name in
                xattr.value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
            }
        }
        let status = archive_write_header(archive, entry)
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw failure("header") }
    }

    func data(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        let written = archive_write_data(archive, bytes.baseAddress, bytes.count)
        guard written == bytes.count else { throw failure("data") }
    }

    /// Writes the end-of-archive blocks.
    func close() throws {
        guard !closed else { return }
        closed = true
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("close") }
    }
}
