import CZlib
import CZstd
import DevenvOCI

/// Turns a compressed byte stream into the uncompressed stream, one buffer at a time.
protocol StreamDecoder: AnyObject {
    /// Decodes from the front of `input` (advancing it) into `output`; returns the bytes
    /// written. Consuming input without producing output is progress too.
    func decode(_ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int
    /// Called at the end of the input: throws when the stream stopped mid-way.
    func finish() throws
}

func makeDecoder(_ compression: LayerCompression) throws -> StreamDecoder {
    switch compression {
    case .none: return PlainDecoder()
    case .gzip: return try GzipDecoder()
    case .zstd: return try ZstdDecoder()
    }
}

final class PlainDecoder: StreamDecoder {
    func decode(_ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(input.count, output.count)
        guard count > 0 else { return 0 }
        output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: count)
        input = UnsafeRawBufferPointer(rebasing: input[count...])
        return count
    }

    func finish() throws {}
}

/// Where a multi-member stream stands between members: all concatenated
/// members are decoded (RFC 1952), and NUL bytes after the last member are accepted as
/// padding (umoci >= 0.4.7 does the same). Any other trailing byte starts a new member and
/// must then be valid.
enum MemberState {
    case inMember, betweenMembers, padding
}

extension MemberState {
    /// Handles input at a member boundary. Returns true when the caller should start a new
    /// member; consumes NUL padding itself.
    static func atBoundary(_ state: inout MemberState, _ input: inout UnsafeRawBufferPointer, format: String) throws -> Bool {
        if state == .betweenMembers {
            guard input[0] == 0 else { return true }
            state = .padding
        }
        guard input.allSatisfy({ $0 == 0 }) else {
            throw Failure(.corrupt, "non-zero bytes after the NUL padding that follows the last \(format) member")
        }
        input = UnsafeRawBufferPointer(rebasing: input[input.count...])
        return false
    }
}

final class GzipDecoder: StreamDecoder {
    // zlib keeps a pointer back to the z_stream, so it must not move: heap-allocated.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var state = MemberState.inMember
    private var member = 1

    init() throws {
        stream.initialize(to: z_stream())
        // 16 + MAX_WBITS: gzip wrapper only, a raw zlib or deflate stream is an error.
        let status = inflateInit2_(stream, 16 + 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw Failure(.corrupt, "inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decode(_ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        var produced = 0
        while !input.isEmpty && produced < output.count {
            if state != .inMember {
                guard try MemberState.atBoundary(&state, &input, format: "gzip") else { continue }
                inflateReset(stream)
                state = .inMember
                member += 1
            }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = UInt32(min(input.count, Int(UInt32.max)))
            stream.pointee.next_out = (output.baseAddress! + produced).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count - produced)
            let availIn = Int(stream.pointee.avail_in)
            let availOut = Int(stream.pointee.avail_out)
            let status = inflate(stream, Z_NO_FLUSH)
            let consumed = availIn - Int(stream.pointee.avail_in)
            input = UnsafeRawBufferPointer(rebasing: input[consumed...])
            produced += availOut - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK: continue
            case Z_STREAM_END: state = .betweenMembers
            case Z_BUF_ERROR: return produced
            default: throw inflateFailure(status)
            }
        }
        // inflate may hold output it could not write for lack of space: drain it.
        if state == .inMember && input.isEmpty && produced < output.count {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            stream.pointee.next_out = (output.baseAddress! + produced).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count - produced)
            let availOut = Int(stream.pointee.avail_out)
            let status = inflate(stream, Z_NO_FLUSH)
            produced += availOut - Int(stream.pointee.avail_out)
            if status == Z_STREAM_END { state = .betweenMembers }
            else if status != Z_OK && status != Z_BUF_ERROR { throw inflateFailure(status) }
        }
        return produced
    }

    private func inflateFailure(_ status: Int32) -> Failure {
        let detail = stream.pointee.msg.map { String(cString: $0) } ?? "inflate error \(status)"
        let place = member > 1 ? " in member \(member) (trailing data after the gzip stream?)" : ""
        return Failure(.corrupt, "invalid gzip data\(place): \(detail)")
    }

    func finish() throws {
        guard state != .inMember else { throw Failure(.truncated, "unexpected end of gzip stream (truncated layer)") }
    }
}

final class ZstdDecoder: StreamDecoder {
    private let context: OpaquePointer
    private var state = MemberState.inMember
    private var pendingHint = 1

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw Failure(.corrupt, "ZSTD_createDCtx: out of memory") }
        self.context = context
        // The default already is 27; setting it says the bound is deliberate.
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Linux.zstdWindowLogLimit)
    }

    deinit { ZSTD_freeDCtx(context) }

    func decode(_ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        var produced = 0
        while produced < output.count && (!input.isEmpty || (state == .inMember && pendingHint != 0)) {
            if state != .inMember {
                guard !input.isEmpty else { break }
                guard try MemberState.atBoundary(&state, &input, format: "zstd") else { continue }
                state = .inMember
                pendingHint = 1
            }
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
            var outBuffer = ZSTD_outBuffer(dst: output.baseAddress! + produced, size: output.count - produced, pos: 0)
            let hint = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw Self.failure(hint)
            }
            input = UnsafeRawBufferPointer(rebasing: input[inBuffer.pos...])
            produced += outBuffer.pos
            pendingHint = hint
            if hint == 0 { state = .betweenMembers }
            if inBuffer.pos == 0 && outBuffer.pos == 0 { break }
        }
        return produced
    }

    func finish() throws {
        guard state != .inMember else { throw Failure(.truncated, "unexpected end of zstd stream (truncated layer)") }
    }

    static func failure(_ code: Int) -> Failure {
        let name = String(cString: ZSTD_getErrorName(code))
        if ZSTD_getErrorCode(code) == ZSTD_error_frameParameter_windowTooLarge {
            return Failure(.limitExceeded, "zstd frame needs a window above 128 MiB (windowLog > \(Linux.zstdWindowLogLimit)), refused: \(name)")
        }
        return Failure(.corrupt, "invalid zstd data: \(name)")
    }
}
