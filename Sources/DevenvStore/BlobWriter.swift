import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Streams bytes into a private ingest file while hashing them. Nothing becomes
/// addressable until `commit` has checked size and digest, fsynced and renamed the file
/// into `blobs/` (RELIABILITY §0.3, A1, E2).
public final class BlobWriter {
    private let store: ContentStore
    private let file: FileDescriptor
    public let ingestPath: String
    private var hasher: DigestHasher
    private var done = false

    init(store: ContentStore, algorithm: Digest.Algorithm) throws {
        self.store = store
        let path = "\(store.layout.ingest)/\(UUID().uuidString)"
        ingestPath = path
        file = try StoreError.wrap { try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600) }
        hasher = DigestHasher(algorithm)
    }

    deinit {
        if !done { unlink(ingestPath) }
    }

    public var bytesWritten: Int64 { hasher.count }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        hasher.update(buffer)
        try StoreError.wrap { try file.writeAll(buffer, path: ingestPath) }
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Copies everything readable from `source` into the blob.
    public func write(contentsOf source: FileDescriptor, path: String) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try StoreError.wrap { try source.read(into: buffer, path: path) }
            if count == 0 { break }
            try write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Verifies the content against `expected` (digest and, if given, size) and makes it
    /// visible. On mismatch the ingest file is removed and nothing is stored.
    @discardableResult
    public func commit(expected: Digest? = nil, size expectedSize: Int64? = nil, context: String) throws -> Descriptor {
        defer { done = true; unlink(ingestPath) }
        let digest = hasher.finalize()
        if let expectedSize, expectedSize != hasher.count {
            throw StoreError.sizeMismatch(digest: expected ?? digest, expected: expectedSize, actual: hasher.count, context: context)
        }
        if let expected, expected != digest {
            throw StoreError.digestMismatch(expected: expected, actual: digest, context: context)
        }
        try StoreError.wrap {
            try file.fsync()
            let target = store.path(for: digest)
            guard link(ingestPath, target) == 0 || errno == EEXIST else { throw SystemError.last("link", path: target) }
            try AtomicFile.syncDirectory(store.layout.blobDirectory(digest.algorithm.rawValue))
        }
        return Descriptor(mediaType: "application/octet-stream", digest: digest, size: hasher.count)
    }
}
