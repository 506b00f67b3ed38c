import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// A layer blob being decompressed on its own thread: the file is read, sniffed, decoded and
/// the uncompressed bytes hashed (the diffID) there, and handed to the consumer through a
/// bounded ChunkQueue. The consumer (the tar parser) runs on the calling thread.
final class DecodedStream: @unchecked Sendable {
    static let chunkSize = 1 << 20
    static let chunkCount = 4
    static let readSize = 256 << 10

    let path: String
    let compression: LayerCompression
    private let file: FileDescriptor
    private let maxBytes: Int64
    private let queue = ChunkQueue(count: DecodedStream.chunkCount, capacity: DecodedStream.chunkSize)
    private var worker: WorkerThread?
    // Written by the producer before it finishes the queue; read after next() returned nil.
    private var diffID: Digest?
    private var total: Int64 = 0
    private var current: Int?

    /// Opens and sniffs the blob. A declared compression that disagrees with the bytes is an
    /// error (RELIABILITY A7).
    init(path: String, declared: LayerCompression?, maxBytes: Int64) throws {
        self.path = path
        self.maxBytes = maxBytes
        let file = try FileDescriptor.open(path, O_RDONLY)
        self.file = file
        var head = [UInt8](repeating: 0, count: FormatSniffer.headLength)
        let count = head.withUnsafeMutableBytes { pread(file.raw, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw Failure.system("read") }
        guard count > 0 else { throw Failure(.unrecognizedFormat, "the layer is empty (0 bytes); not a gzip, zstd or tar stream") }
        guard let sniffed = FormatSniffer.sniff(Array(head.prefix(count))) else {
            throw Failure(.unrecognizedFormat, "not a gzip, zstd or tar stream (first bytes \(Self.hex(head.prefix(min(count, 8)))))")
        }
        if let declared, declared != sniffed {
            throw Failure(.compressionMismatch(declared: declared, actual: sniffed),
                          "declared compression \(declared.rawValue) but the content is \(Self.describe(sniffed))")
        }
        compression = sniffed
    }

    static func describe(_ compression: LayerCompression) -> String {
        compression == .none ? "an uncompressed tar" : compression.rawValue
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String($0, radix: 16).leftPad2 }.joined(separator: " ")
    }

    func start() {
        worker = WorkerThread(name: "devenv-decompress") { [self] in produce() }
    }

    private func produce() {
        do {
            let decoder = try makeDecoder(compression)
            var hasher = DigestHasher(.sha256)
            let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readSize, alignment: 64)
            defer { input.deallocate() }
            var pending = UnsafeRawBufferPointer(start: input.baseAddress, count: 0)
            var endOfFile = false
            guard var index = queue.acquire() else { return queue.finish(error: nil) }
            var filled = 0
            while true {
                if pending.isEmpty && !endOfFile {
                    let count = try file.read(into: input, path: path)
                    if count == 0 { endOfFile = true }
                    pending = UnsafeRawBufferPointer(start: input.baseAddress, count: count)
                }
                let before = pending.count
                let output = UnsafeMutableRawBufferPointer(rebasing: queue.buffer(index)[filled...])
                let produced = try decoder.decode(&pending, into: output)
                filled += produced
                if filled == queue.capacity {
                    try hand(index, filled, &hasher)
                    guard let next = queue.acquire() else { return queue.finish(error: nil) }
                    index = next
                    filled = 0
                }
                if produced == 0 && pending.count == before {
                    if endOfFile { break }
                    if !pending.isEmpty { throw Failure(.corrupt, "the decoder stopped making progress") }
                }
            }
            try decoder.finish()
            if filled > 0 { try hand(index, filled, &hasher) } else { queue.recycle(index) }
            diffID = hasher.finalize()
            queue.finish(error: nil)
        } catch {
            queue.finish(error: error)
        }
    }

    private func hand(_ index: Int, _ count: Int, _ hasher: inout DigestHasher) throws {
        total += Int64(count)
        if total > maxBytes {
            throw Failure(.limitExceeded, "the uncompressed layer exceeds the limit of \(maxBytes) bytes")
        }
        hasher.update(UnsafeRawBufferPointer(rebasing: queue.buffer(index)[..<count]))
        queue.publish(index, count: count)
    }

    /// The next block of uncompressed bytes, valid until the following call; nil at the end.
    func next() throws -> UnsafeRawBufferPointer? {
        if let current { queue.recycle(current) }
        current = nil
        guard let chunk = try queue.next() else { return nil }
        current = chunk.index
        return UnsafeRawBufferPointer(rebasing: queue.buffer(chunk.index)[..<chunk.count])
    }

    /// Reads to the end (trailing bytes after the tar's end-of-archive are part of the diffID)
    /// and returns the diffID and the uncompressed size.
    func finish(_ consume: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> (diffID: Digest, size: Int64) {
        do {
            while let block = try next() { try consume?(block) }
        } catch {
            cancel()
            throw error
        }
        worker?.join()
        worker = nil
        guard let diffID else { throw Failure(.corrupt, "decompression ended without a digest") }
        return (diffID, total)
    }

    /// Stops the producer and waits for it. Safe to call more than once.
    func cancel() {
        queue.cancel()
        if let current { queue.recycle(current) }
        current = nil
        worker?.join()
        worker = nil
    }

    deinit { cancel() }
}

extension String {
    var leftPad2: String { count >= 2 ? self : "0" + self }
}
