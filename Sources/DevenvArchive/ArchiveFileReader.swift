import CArchive
import DevenvOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads the members of an archive FILE (an OCI archive, a `docker save` tarball), as
/// opposed to applying a layer to disk. Entries are streamed; nothing is written to disk.
/// Compression (gzip, zstd, xz) is detected by libarchive.
public final class ArchiveFileReader {
    public struct Entry {
        /// The member name with a leading `./` removed.
        public let name: String
        public let isRegularFile: Bool
        public let isDirectory: Bool
        public let size: Int64
    }

    private let archive: OpaquePointer
    public let path: String

    public init(path: String) throws {
        guard let archive = archive_read_new() else { throw ArchiveError(.readArchive, object: path, kind: .archiveFile, message: "out of memory") }
        self.archive = archive
        self.path = path
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        archive_read_support_format_gnutar(archive)
        guard archive_read_open_filename(archive, path, 1 << 20) == ARCHIVE_OK else {
            // deinit frees the handle: self is fully initialised here.
            throw ArchiveError(.readArchive, object: path, kind: .archiveFile, message: Self.message(archive))
        }
    }

    deinit { archive_read_free(archive) }

    /// The next member, or nil at the end of the archive.
    public func next() throws -> Entry? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            throw ArchiveError(.readArchive, object: path, kind: .archiveFile, message: "header: \(Self.message(archive))")
        }
        var name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        while name.hasPrefix("./") { name.removeFirst(2) }
        let type = archive_entry_filetype(entry)
        return Entry(name: name, isRegularFile: type == S_IFREG, isDirectory: type == S_IFDIR, size: archive_entry_size(entry))
    }

    /// Streams the current member's data to `body` in chunks.
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if count == 0 { return }
            guard count > 0 else {
                throw ArchiveError(.readArchive, object: path, kind: .archiveFile, message: "member data: \(Self.message(archive))")
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// The current member's data, refusing members larger than `limit`.
    public func readData(limit: Int) throws -> Data {
        var data = Data()
        try readData { chunk in
            guard data.count + chunk.count <= limit else {
                throw ArchiveError(.readArchive, object: path, kind: .archiveFile, message: "a member is larger than \(limit) bytes")
            }
            data.append(contentsOf: chunk)
        }
        return data
    }

    static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { Printable.escape(String(cString: $0)) } ?? "unknown libarchive error"
    }
}
