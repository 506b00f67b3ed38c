import CZlib
import CZstd
import DevenvOCI

/// Compresses a byte stream, handing compressed output to `emit` as it is produced.
protocol StreamEncoder: AnyObject {
    func encode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws
    func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws
}

func makeEncoder(_ compression: LayerCompression, level: Int32?, workers: Int) throws -> StreamEncoder {
    switch compression {
    case .none: return PlainEncoder()
    case .gzip: return try GzipEncoder(level: level ?? GzipEncoder.defaultLevel)
    case .zstd: return try ZstdEncoder(level: level ?? ZstdEncoder.defaultLevel, workers: workers)
    }
}

final class PlainEncoder: StreamEncoder {
    func encode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws { try emit(input) }
    func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws {}
}

final class GzipEncoder: StreamEncoder {
    static let defaultLevel: Int32 = 6
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)

    /// A gzip header with no name and mtime 0: the same input always gives the same bytes.
    init(level: Int32) throws {
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, level, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw Failure(.corrupt, "deflateInit2 failed (\(status))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    func encode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(input.count)
        while stream.pointee.avail_in > 0 {
            try step(Z_NO_FLUSH, emit)
        }
    }

    func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        while try step(Z_FINISH, emit) != Z_STREAM_END {}
    }

    @discardableResult
    private func step(_ flush: Int32, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Int32 {
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(output.count)
        let status = deflate(stream, flush)
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
            throw Failure(.corrupt, "deflate failed (\(status))")
        }
        let produced = output.count - Int(stream.pointee.avail_out)
        if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[..<produced])) }
        return status
    }
}

final class ZstdEncoder: StreamEncoder {
    static let defaultLevel: Int32 = 3
    private let context: OpaquePointer
    private let output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 64)

    /// `workers >= 1` runs libzstd's own compression threads. libzstd produces the same
    /// frame for every worker count >= 1, so digests do not depend on the machine's cores.
    init(level: Int32, workers: Int) throws {
        guard let context = ZSTD_createCCtx() else { throw Failure(.corrupt, "ZSTD_createCCtx: out of memory") }
        self.context = context
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "compression level")
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "checksum flag")
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(max(1, workers))),
                       "worker threads (libzstd built without multithreading?)")
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    private static func check(_ code: Int, _ what: String) throws {
        if ZSTD_isError(code) != 0 {
            throw Failure(.corrupt, "zstd \(what): \(String(cString: ZSTD_getErrorName(code)))")
        }
    }

    func encode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while inBuffer.pos < inBuffer.size {
            _ = try step(&inBuffer, ZSTD_e_continue, emit)
        }
    }

    func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&inBuffer, ZSTD_e_end, emit) != 0 {}
    }

    private func step(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective,
                      _ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &outBuffer, &input, mode)
        try Self.check(remaining, "compress")
        if outBuffer.pos > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[..<outBuffer.pos])) }
        return remaining
    }
}
