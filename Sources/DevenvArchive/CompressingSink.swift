import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Receives an uncompressed tar stream and writes it compressed to a file, hashing both
/// sides (diffID over the uncompressed bytes, digest over the compressed ones). Compression,
/// hashing and file writes run on a worker thread fed through a bounded ChunkQueue, so tar
/// generation (directory walk, file reads) overlaps with compression, like `tar | zstd`.
final class CompressingSink: @unchecked Sendable {
    static let chunkSize = 1 << 20
    static let chunkCount = 4

    struct Result {
        let digest: Digest
        let size: Int64
        let diffID: Digest
        let uncompressedSize: Int64
    }

    let path: String
    private let file: FileDescriptor
    private let encoder: StreamEncoder
    private let queue = ChunkQueue(count: CompressingSink.chunkCount, capacity: CompressingSink.chunkSize)
    private var worker: WorkerThread?
    private var current: Int?
    private var filled = 0
    // Owned by the worker until it finishes; read after join().
    private var result: Result?
    private var failure: Error?

    init(path: String, compression: LayerCompression, level: Int32?, workers: Int) throws {
        self.path = path
        encoder = try makeEncoder(compression, level: level, workers: workers)
        file = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o644)
        worker = WorkerThread(name: "devenv-compress") { [self] in consume() }
    }

    /// Appends uncompressed bytes (called from libarchive's write callback).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var remaining = bytes
        while !remaining.isEmpty {
            if current == nil {
                guard let index = queue.acquire() else { throw stopped() }
                current = index
                filled = 0
            }
            let buffer = queue.buffer(current!)
            let count = min(remaining.count, buffer.count - filled)
            (buffer.baseAddress! + filled).copyMemory(from: remaining.baseAddress!, byteCount: count)
            filled += count
            remaining = UnsafeRawBufferPointer(rebasing: remaining[count...])
            if filled == buffer.count {
                queue.publish(current!, count: filled)
                current = nil
            }
        }
    }

    /// Flushes, fsyncs and returns the digests. On failure the output file is removed.
    func finish() throws -> Result {
        if let index = current {
            if filled > 0 { queue.publish(index, count: filled) } else { queue.recycle(index) }
            current = nil
        }
        queue.finish(error: nil)
        worker?.join()
        worker = nil
        if let failure {
            unlink(path)
            throw failure
        }
        return result!
    }

    /// Abandons the output: stops the worker and removes the file.
    func abandon() {
        queue.cancel()
        queue.finish(error: Failure(.corrupt, "abandoned"))
        worker?.join()
        worker = nil
        unlink(path)
    }

    private func stopped() -> Error {
        worker?.join()
        worker = nil
        return failure ?? Failure(.corrupt, "the compressor stopped")
    }

    private func consume() {
        do {
            var diffID = DigestHasher(.sha256)
            var digest = DigestHasher(.sha256)
            var size: Int64 = 0
            let emit: (UnsafeRawBufferPointer) throws -> Void = { [file, path] compressed in
                digest.update(compressed)
                size += Int64(compressed.count)
                try file.writeAll(compressed, path: path)
            }
            while let chunk = try queue.next() {
                let bytes = UnsafeRawBufferPointer(rebasing: queue.buffer(chunk.index)[..<chunk.count])
                diffID.update(bytes)
                try encoder.encode(bytes, emit: emit)
                queue.recycle(chunk.index)
            }
            try encoder.finish(emit: emit)
            try file.fsync()
            result = Result(digest: digest.finalize(), size: size, diffID: diffID.finalize(), uncompressedSize: diffID.count)
        } catch {
            failure = error
            queue.cancel()
        }
    }
}
