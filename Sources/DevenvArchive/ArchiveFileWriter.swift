import CArchive
import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes an uncompressed POSIX tar archive file (OCI archives and `docker save` tarballs)
/// with deterministic headers: root ownership, fixed mtime, sorted input left to the caller.
public final class ArchiveFileWriter {
    private let archive: OpaquePointer
    public let path: String
    private let mtime: time_t
    private var closed = false

    public init(path: String, mtime: time_t = 0) throws {
        guard let archive = archive_write_new() else { throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: "out of memory") }
        self.archive = archive
        self.path = path
        self.mtime = mtime
        archive_write_set_format_pax_restricted(archive)
        archive_write_add_filter_none(archive)
        guard archive_write_open_filename(archive, path) == ARCHIVE_OK else {
            // deinit frees the handle: self is fully initialised here.
            throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: ArchiveFileReader.message(archive))
        }
    }

    deinit {
        if !closed { archive_write_close(archive) }
        archive_write_free(archive)
    }

    public func addDirectory(_ name: String) throws {
        try writeHeader(name: name, type: S_IFDIR, mode: 0o755, size: 0)
    }

    public func add(_ name: String, data: Data) throws {
        try writeHeader(name: name, type: S_IFREG, mode: 0o644, size: Int64(data.count))
        try data.withUnsafeBytes { try writeData($0) }
    }

    /// Adds the file at `source` under `name`.
    public func add(_ name: String, contentsOf source: String) throws {
        let file = try FileDescriptor.open(source, O_RDONLY)
        let size = Int64(try file.stat().st_size)
        try writeHeader(name: name, type: S_IFREG, mode: 0o644, size: size)
        try copy(from: file, path: source, expected: size)
    }

    /// Adds a member of known `size` whose bytes `produce` writes through the given sink.
    public func add(_ name: String, size: Int64, produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try writeHeader(name: name, type: S_IFREG, mode: 0o644, size: size)
        var written: Int64 = 0
        try produce { chunk in
            written += Int64(chunk.count)
            try writeData(chunk)
        }
        guard written == size else {
            throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: "member '\(Printable.escape(name))': expected \(size) bytes, got \(written)")
        }
    }

    public func close() throws {
        closed = true
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: "finish: \(ArchiveFileReader.message(archive))")
        }
    }

    private func copy(from file: FileDescriptor, path source: String, expected: Int64) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = try file.read(into: buffer, path: source)
            if count == 0 { break }
            total += Int64(count)
            try writeData(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        guard total == expected else {
            throw ArchiveError(.writeArchive, object: source, kind: .archiveFile, message: "the file changed size while being added")
        }
    }

    private func writeHeader(name: String, type: mode_t, mode: mode_t, size: Int64) throws {
        guard let entry = archive_entry_new() else { throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: "out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, UInt32(type))
        archive_entry_set_perm(entry, mode)
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, mtime, 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: "header of '\(Printable.escape(name))': \(ArchiveFileReader.message(archive))")
        }
    }

    private func writeData(_ chunk: UnsafeRawBufferPointer) throws {
        guard chunk.count > 0 else { return }
        let written = archive_write_data(archive, chunk.baseAddress, chunk.count)
        guard written == chunk.count else {
            throw ArchiveError(.writeArchive, object: path, kind: .archiveFile, message: "member data: \(ArchiveFileReader.message(archive))")
        }
    }
}
