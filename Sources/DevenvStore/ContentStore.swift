import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed blobs under `blobs/<algorithm>/<hex>`. Paths are only ever built from
/// a parsed `Digest`, so no input can name a file outside `blobs/`.
public struct ContentStore: Sendable {
    public let layout: StoreLayout

    public init(layout: StoreLayout) { self.layout = layout }

    public func path(for digest: Digest) -> String {
        "\(layout.blobDirectory(digest.algorithm.rawValue))/\(digest.encoded)"
    }

    public func contains(_ digest: Digest) -> Bool {
        access(path(for: digest), F_OK) == 0
    }

    public func size(of digest: Digest) throws -> Int64 {
        var info = stat()
        guard stat(path(for: digest), &info) == 0 else {
            if errno == ENOENT { throw StoreError.blobNotFound(digest) }
            throw StoreError.system(.last("stat", path: path(for: digest)))
        }
        return Int64(info.st_size)
    }

    public func writer(algorithm: Digest.Algorithm = .sha256) throws -> BlobWriter {
        try BlobWriter(store: self, algorithm: algorithm)
    }

    /// Where the partial download of `digest` is kept between attempts and processes.
    public func ingestPath(for digest: Digest) -> String {
        "\(layout.ingest)/\(digest.algorithm.rawValue)-\(digest.encoded)"
    }

    /// A writer for the blob `digest` that continues a partial download an earlier attempt
    /// left behind (`resumedFrom` says how far it got) and keeps the partial data if it is
    /// dropped uncommitted. One writer per digest at a time across processes: a second one
    /// waits (`onWait` is called first) and then gets nil if the first stored the blob.
    public func resumableWriter(for digest: Digest, size: Int64?, onWait: (() -> Void)? = nil) throws -> BlobWriter? {
        let lock = try StoreError.wrap {
            try FileLock(path: "\(layout.locks)/ingest-\(digest.algorithm.rawValue)-\(digest.encoded).lock", onWait: onWait)
        }
        if contains(digest) {
            lock.unlock()
            return nil
        }
        return try BlobWriter(store: self, resuming: digest, expectedSize: size, lock: lock)
    }

    /// Stores `data` and returns its descriptor with `mediaType`.
    @discardableResult
    public func put(_ data: Data, mediaType: String) throws -> Descriptor {
        let digest = Digest.sha256(data)
        if !contains(digest) {
            let writer = try writer()
            try writer.write(data)
            try writer.commit(expected: digest, context: "store \(mediaType)")
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// Reads a small blob (a manifest or config) completely, verifying it again: a blob file
    /// damaged on disk must not be trusted just because its name is a digest.
    public func read(_ digest: Digest, limit: Int64 = OCIDocument.maxSize) throws -> Data {
        let file = path(for: digest)
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(file, O_RDONLY | O_CLOEXEC)
        } catch let error as SystemError {
            throw contains(digest) ? StoreError.system(error) : StoreError.blobNotFound(digest)
        }
        let data = Data(try StoreError.wrap { try descriptor.readAll(limit: Int(limit), path: file) })
        guard data.count <= limit else {
            throw StoreError.corrupt(path: file, reason: "larger than \(limit) bytes")
        }
        var hasher = DigestHasher(digest.algorithm)
        hasher.update(data)
        let actual = hasher.finalize()
        guard actual == digest else {
            throw StoreError.digestMismatch(expected: digest, actual: actual, context: "read blob")
        }
        return data
    }

    /// Hashes the blob file again and checks it against its name: for consumers that hand a
    /// blob on by path (an export) and for `devenv check`. A truncated or altered file is
    /// `corrupt`, never passed on as the blob.
    public func verify(_ digest: Digest) throws {
        let file = path(for: digest)
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.openRegularFile(file, flags: O_NOFOLLOW)
        } catch let error as SystemError {
            throw error.errno == ENOENT ? StoreError.blobNotFound(digest) : StoreError.system(error)
        }
        var hasher = DigestHasher(digest.algorithm)
        try StoreError.wrap { try descriptor.readChunks(path: file, chunkSize: 1 << 20) { hasher.update($0) } }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw StoreError.corrupt(path: file, reason: "its content hashes to \(actual)\nhint: `devenv check --repair` removes it; the next pull or build fetches or makes it again")
        }
    }

    /// Moves a file written elsewhere in the store (e.g. a layer just created) into place
    /// after checking it hashes to `digest`.
    public func adopt(file source: String, digest: Digest, context: String) throws {
        let writer = try writer(algorithm: digest.algorithm)
        let input = try StoreError.wrap { try FileDescriptor.open(source, O_RDONLY) }
        try writer.write(contentsOf: input, path: source)
        try writer.commit(expected: digest, context: context)
    }

    /// Moves an already-verified file into place without re-reading it. Only for files the
    /// caller hashed itself while writing them inside this store.
    public func adoptVerified(file source: String, digest: Digest) throws {
        let target = path(for: digest)
        try StoreError.wrap {
            guard link(source, target) == 0 || errno == EEXIST else { throw SystemError.last("link", path: target) }
            unlink(source)
            try AtomicFile.syncDirectory(layout.blobDirectory(digest.algorithm.rawValue))
        }
    }

    public func delete(_ digest: Digest) throws {
        guard unlink(path(for: digest)) == 0 || errno == ENOENT else {
            throw StoreError.system(.last("unlink", path: path(for: digest)))
        }
    }

    /// Every blob present, with its size. Files whose names are not valid digests are
    /// reported as `strays` so gc can remove them.
    public func list() throws -> (blobs: [(Digest, Int64)], strays: [String]) {
        var blobs: [(Digest, Int64)] = []
        var strays: [String] = []
        for algorithm in Digest.Algorithm.allCases {
            let directory = layout.blobDirectory(algorithm.rawValue)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names {
                if let digest = try? Digest(parsing: "\(algorithm.rawValue):\(name)") {
                    blobs.append((digest, (try? size(of: digest)) ?? 0))
                } else {
                    strays.append("\(directory)/\(name)")
                }
            }
        }
        return (blobs, strays)
    }
}
