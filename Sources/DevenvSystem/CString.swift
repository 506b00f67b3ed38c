/// Runs `body` with `bytes` as a NUL-terminated C string. File names are bytes on Linux;
/// they never go through String, so non-UTF-8 names survive exactly.
@inline(__always)
public func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    var terminated = bytes
    terminated.append(0)
    return try terminated.withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}
