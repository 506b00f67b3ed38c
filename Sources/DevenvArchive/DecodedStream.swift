import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// A layer blob being decompressed on its own thread: the file is read, sniffed and decoded
/// there, and handed to the consumer (the tar parser, on the calling thread) through a bounded
/// ChunkQueue. The diffID is hashed on the consumer side as blocks are handed out: inflate
/// alone keeps the decompression thread busy, so this balances the two threads.
final class DecodedStream: @unchecked Sendable {
    static let chunkSize = 1 << 20
    static let chunkCount = 4
    static let readSize = 256 << 10

    let path: String
    let compression: LayerCompression
    private let source: ByteSource
    /// The bytes read for sniffing; the decoder starts with them.
    private let head: [UInt8]
    private let maxBytes: Int64
    private let queue = ChunkQueue(count: DecodedStream.chunkCount, capacity: DecodedStream.chunkSize)
    private var worker: WorkerThread?
    private var hasher: DigestHasher
    private var total: Int64 = 0
    private var current: Int?

    /// Opens and sniffs the blob. A declared compression that disagrees with the bytes is an
    /// error.
    convenience init(path: String, declared: LayerCompression?, maxBytes: Int64, diffIDAlgorithm: Digest.Algorithm = .sha256) throws {
        let file = try FileDescriptor.open(path, O_RDONLY)
        try self.init(source: FileByteSource(file: file, path: path), path: path, declared: declared, maxBytes: maxBytes,
                      diffIDAlgorithm: diffIDAlgorithm)
    }

    /// Sniffs a blob that is still being written (a download in progress), following it
    /// until its writer says it is complete.
    convenience init(growing file: GrowingFile, declared: LayerCompression?, maxBytes: Int64, diffIDAlgorithm: Digest.Algorithm) throws {
        let reader = try file.reader()
        try self.init(source: GrowingByteSource(reader: reader, path: file.path), path: file.path, declared: declared, maxBytes: maxBytes,
                      diffIDAlgorithm: diffIDAlgorithm)
    }

    init(source: ByteSource, path: String, declared: LayerCompression?, maxBytes: Int64, diffIDAlgorithm: Digest.Algorithm = .sha256) throws {
        self.path = path
        hasher = DigestHasher(diffIDAlgorithm)
        self.maxBytes = maxBytes
        self.source = source
        var head = [UInt8](repeating: 0, count: FormatSniffer.headLength)
        var count = 0
        while count < head.count {
            let got = try head.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[count...])) }
            if got == 0 { break }
            count += got
        }
        guard count > 0 else { throw Failure(.unrecognizedFormat, "the layer is empty (0 bytes); not a gzip, zstd or tar stream") }
        self.head = Array(head.prefix(count))
        guard let sniffed = FormatSniffer.sniff(self.head) else {
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
            let pump = try DecodePump(source: source, head: head, compression: compression, maxBytes: maxBytes)
            while let index = queue.acquire() {
                let count = try pump.fill(queue.buffer(index))
                guard count > 0 else {
                    queue.recycle(index)
                    break
                }
                queue.publish(index, count: count)
            }
            queue.finish(error: nil)
        } catch {
            queue.finish(error: error)
        }
    }

    /// The next block of uncompressed bytes, valid until the following call; nil at the end.
    func next() throws -> UnsafeRawBufferPointer? {
        if let current { queue.recycle(current) }
        current = nil
        guard let chunk = try queue.next() else { return nil }
        current = chunk.index
        let block = UnsafeRawBufferPointer(rebasing: queue.buffer(chunk.index)[..<chunk.count])
        hasher.update(block)
        total += Int64(block.count)
        return block
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
        return (hasher.finalize(), total)
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

/// Reads the blob and decodes it, one output buffer at a time, enforcing the size cap.
final class DecodePump {
    private let source: ByteSource
    private let decoder: StreamDecoder
    private let maxBytes: Int64
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: DecodedStream.readSize, alignment: 64)
    private var pending: UnsafeRawBufferPointer
    private var endOfFile = false
    private(set) var total: Int64 = 0

    init(source: ByteSource, head: [UInt8], compression: LayerCompression, maxBytes: Int64) throws {
        self.source = source
        self.maxBytes = maxBytes
        decoder = try makeDecoder(compression)
        precondition(head.count <= DecodedStream.readSize)
        let buffer = input
        head.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        pending = UnsafeRawBufferPointer(start: buffer.baseAddress, count: head.count)
    }

    deinit { input.deallocate() }

    /// Fills `buffer` with uncompressed bytes; fewer only at the end, 0 once the stream is
    /// over (after checking it was complete).
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if pending.isEmpty && !endOfFile {
                let count = try source.read(into: input)
                if count == 0 { endOfFile = true }
                pending = UnsafeRawBufferPointer(start: input.baseAddress, count: count)
            }
            let before = pending.count
            let produced = try decoder.decode(&pending, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            filled += produced
            if produced == 0 && pending.count == before {
                if endOfFile {
                    try decoder.finish()
                    break
                }
                if !pending.isEmpty { throw Failure(.corrupt, "the decoder stopped making progress") }
            }
        }
        total += Int64(filled)
        if total > maxBytes {
            throw Failure(.limitExceeded, "the uncompressed layer exceeds the limit of \(maxBytes) bytes")
        }
        return filled
    }
}

extension String {
    var leftPad2: String { count >= 2 ? self : "0" + self }
}

/// Where compressed layer bytes come from, one read at a time; 0 means the end.
protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

final class FileByteSource: ByteSource {
    private let file: FileDescriptor
    private let path: String

    init(file: FileDescriptor, path: String) {
        self.file = file
        self.path = path
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try file.read(into: buffer, path: path)
    }
}

final class GrowingByteSource: ByteSource {
    private let reader: GrowingFile.Reader
    private let path: String

    init(reader: GrowingFile.Reader, path: String) {
        self.reader = reader
        self.path = path
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do {
            return try reader.read(into: buffer)
        } catch let error as SystemError where error.errno == ECANCELED {
            throw Failure(.truncated, error.operation)
        }
    }
}
