import CCrypto
import FoundationEssentials

/// Incremental SHA-256/SHA-512 through OpenSSL's EVP interface (hardware-accelerated
/// where the CPU has SHA extensions). A value type wrapping a reference so it can be
/// passed around; do not share one hasher between threads.
public struct DigestHasher {
    private final class Context {
        let ctx: OpaquePointer
        init(_ algorithm: Digest.Algorithm) {
            guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
            let md = algorithm == .sha256 ? EVP_sha256() : EVP_sha512()
            guard EVP_DigestInit_ex(ctx, md, nil) == 1 else { fatalError("EVP_DigestInit_ex failed") }
            self.ctx = ctx
        }
        deinit { EVP_MD_CTX_free(ctx) }
    }

    public let algorithm: Digest.Algorithm
    private let context: Context
    public private(set) var count: Int64 = 0

    public init(_ algorithm: Digest.Algorithm = .sha256) {
        self.algorithm = algorithm
        self.context = Context(algorithm)
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        EVP_DigestUpdate(context.ctx, base, buffer.count)
        count += Int64(buffer.count)
    }

    public mutating func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { update($0) }
        }
    }

    /// Finishes the hash. The hasher must not be updated afterwards.
    public func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context.ctx, &out, &length)
        return Digest(algorithm: algorithm, bytes: out.prefix(Int(length)))
    }
}

extension Digest {
    init(algorithm: Algorithm, bytes: ArraySlice<UInt8>) {
        self.init(algorithm: algorithm, bytes: Array(bytes))
    }
}
