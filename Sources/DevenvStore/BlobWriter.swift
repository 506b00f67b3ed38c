import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Streams bytes into a private ingest file while hashing them. Nothing becomes
/// addressable until `commit` has checked size and digest, fsynced and renamed the file
/// into `blobs/`.
///
/// An anonymous writer (`ContentStore.writer`) uses a fresh file that is removed unless
/// committed. A resumable writer (`ContentStore.resumableWriter`) is keyed by the expected
/// digest, like containerd's content ingest: it holds the digest's ingest lock, continues
/// the partial file an earlier process left (re-reading it to rebuild the hash state), and
/// keeps the partial file when it is dropped without a commit, so the next pull resumes.
public final class BlobWriter {
    private let store: ContentStore
    private let file: FileDescriptor
    public let ingestPath: String
    private var hasher: DigestHasher
    private let keepsPartial: Bool
    private let lock: FileLock?
    private var done = false
    /// Bytes found in the ingest file when the writer opened it (0 for a fresh file).
    public private(set) var resumedFrom: Int64 = 0
    /// Told about every write, so a reader can follow the file as it grows.
    public var follower: GrowingFile? {
        didSet { follower?.published(length: hasher.count) }
    }

    init(store: ContentStore, algorithm: Digest.Algorithm) throws {
        self.store = store
        let path = "\(store.layout.ingest)/\(UUID().uuidString)"
        ingestPath = path
        file = try StoreError.wrap { try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600) }
        hasher = DigestHasher(algorithm)
        keepsPartial = false
        lock = nil
    }

    /// Opens the ingest for `digest` with `lock` held; a partial file longer than
    /// `expectedSize` cannot be a prefix of the blob and is started over.
    init(store: ContentStore, resuming digest: Digest, expectedSize: Int64?, lock: FileLock) throws {
        self.store = store
        self.lock = lock
        keepsPartial = true
        let path = store.ingestPath(for: digest)
        ingestPath = path
        hasher = DigestHasher(digest.algorithm)
        file = try StoreError.wrap { try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o600) }
        let existing = try StoreError.wrap { Int64(try file.stat().st_size) }
        if let expectedSize, existing > expectedSize {
            try restart()
        } else if existing > 0 {
            try rehash()
            resumedFrom = hasher.count
        }
    }

    deinit {
        if !done && !keepsPartial { unlink(ingestPath) }
        if !done { follower?.finish(.abandoned("the download stopped")) }
        lock?.unlock()
    }

    public var bytesWritten: Int64 { hasher.count }

    /// Rebuilds the hash state from the partial file and leaves the position at its end.
    private func rehash() throws {
        try StoreError.wrap {
            guard lseek(file.raw, 0, SEEK_SET) == 0 else { throw SystemError.last("lseek", path: ingestPath) }
            try file.readChunks(path: ingestPath, chunkSize: 1 << 20) { hasher.update($0) }
        }
    }

    /// Discards everything written so far (a server that ignored `Range` sends from zero).
    /// A follower is abandoned: the bytes it read are no longer the file's.
    public func restart() throws {
        follower?.finish(.abandoned("the download started over"))
        follower = nil
        try StoreError.wrap {
            guard ftruncate(file.raw, 0) == 0 else { throw SystemError.last("ftruncate", path: ingestPath) }
            guard lseek(file.raw, 0, SEEK_SET) == 0 else { throw SystemError.last("lseek", path: ingestPath) }
        }
        hasher = DigestHasher(hasher.algorithm)
        resumedFrom = 0
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        hasher.update(buffer)
        try StoreError.wrap { try file.writeAll(buffer, path: ingestPath) }
        follower?.published(length: hasher.count)
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Copies everything readable from `source` into the blob.
    public func write(contentsOf source: FileDescriptor, path: String) throws {
        try StoreError.wrap { try source.readChunks(path: path, chunkSize: 1 << 20) { try write($0) } }
    }

    /// Verifies the content against `expected` (digest and, if given, size) and makes it
    /// visible. On mismatch the ingest file is removed (a resumed partial too: its bytes
    /// are wrong somewhere) and nothing is stored.
    @discardableResult
    public func commit(expected: Digest? = nil, size expectedSize: Int64? = nil, context: String) throws -> Descriptor {
        defer {
            done = true
            unlink(ingestPath)
            lock?.unlock()
        }
        let digest = hasher.finalize()
        let resumed = resumedFrom > 0 ? " (resumed at byte \(resumedFrom) from a partial download kept by an earlier pull)" : ""
        do {
            if let expectedSize, expectedSize != hasher.count {
                throw StoreError.sizeMismatch(digest: expected ?? digest, expected: expectedSize, actual: hasher.count, context: context + resumed)
            }
            if let expected, expected != digest {
                throw StoreError.digestMismatch(expected: expected, actual: digest, context: context + resumed)
            }
            try StoreError.wrap {
                try file.fsync()
                let target = store.path(for: digest)
                guard link(ingestPath, target) == 0 || errno == EEXIST else { throw SystemError.last("link", path: target) }
                try AtomicFile.syncDirectory(store.layout.blobDirectory(digest.algorithm.rawValue))
            }
        } catch {
            follower?.finish(.abandoned("the blob failed verification"))
            throw error
        }
        follower?.finish(.complete)
        return Descriptor(mediaType: "application/octet-stream", digest: digest, size: hasher.count)
    }
}
