import CCrypto
import FoundationEssentials

/// Incremental SHA-256/SHA-512 through OpenSSL's direct digest functions (hardware-
/// accelerated where the CPU has SHA extensions; see Sources/CCrypto/shim.h for why not EVP).
/// A value type wrapping a reference so it can be passed around; do not share one hasher
/// between threads.
public struct DigestHasher {
    private final class Context {
        let algorithm: Digest.Algorithm
        let sha256: UnsafeMutablePointer<SHA256_CTX>
        let sha512: UnsafeMutablePointer<SHA512_CTX>

        init(_ algorithm: Digest.Algorithm) {
            self.algorithm = algorithm
            sha256 = .allocate(capacity: 1)
            sha512 = .allocate(capacity: 1)
            let started = algorithm == .sha256 ? SHA256_Init(sha256) : SHA512_Init(sha512)
            guard started == 1 else { fatalError("SHA init failed") }
        }

        deinit {
            sha256.deallocate()
            sha512.deallocate()
        }

        func update(_ base: UnsafeRawPointer, _ count: Int) {
            _ = algorithm == .sha256 ? SHA256_Update(sha256, base, count) : SHA512_Update(sha512, base, count)
        }

        func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: algorithm == .sha256 ? Int(SHA256_DIGEST_LENGTH) : Int(SHA512_DIGEST_LENGTH))
            _ = algorithm == .sha256 ? SHA256_Final(&out, sha256) : SHA512_Final(&out, sha512)
            return out
        }
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
        context.update(base, buffer.count)
        count += Int64(buffer.count)
    }

    public mutating func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { update($0) }
        }
    }

    /// Finishes the hash. The hasher must not be updated afterwards.
    public func finalize() -> Digest {
        Digest(algorithm: algorithm, bytes: context.finalize()[...])
    }
}

extension Digest {
    init(algorithm: Algorithm, bytes: ArraySlice<UInt8>) {
        self.init(algorithm: algorithm, bytes: Array(bytes))
    }
}
