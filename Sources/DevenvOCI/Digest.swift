import FoundationEssentials

/// A content digest as the OCI image spec defines it (`algorithm ":" encoded`).
///
/// Only `sha256` and `sha512` with lowercase hex of the exact length are accepted, so a
/// `Digest` can always be used as a path component: `..`, `/`, uppercase and short forms
/// never get past `init(parsing:)`.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public enum Algorithm: String, Sendable, Codable, CaseIterable {
        case sha256, sha512

        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// Lowercase hex, exactly `algorithm.hexLength` characters.
    public let encoded: String

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw OCIError.invalidDigest(text, reason: "missing ':' between algorithm and hex")
        }
        let name = String(text[..<colon])
        let hex = String(text[text.index(after: colon)...])
        guard let algorithm = Algorithm(rawValue: name) else {
            throw OCIError.invalidDigest(text, reason: "unsupported algorithm \(Printable.quoted(name)) (sha256 and sha512 are supported)")
        }
        guard hex.utf8.count == algorithm.hexLength else {
            throw OCIError.invalidDigest(text, reason: "\(name) needs \(algorithm.hexLength) hex characters, got \(hex.utf8.count)")
        }
        guard hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw OCIError.invalidDigest(text, reason: "the encoded part must be lowercase hex")
        }
        self.algorithm = algorithm
        self.encoded = hex
    }

    init(algorithm: Algorithm, bytes: [UInt8]) {
        self.algorithm = algorithm
        self.encoded = bytes.hexString
    }

    public var description: String { "\(algorithm.rawValue):\(encoded)" }

    /// The first 12 hex characters, as `docker images` shows them.
    public var short: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    /// The SHA-256 digest of `data`.
    public static func sha256(_ data: some DataProtocol) -> Digest {
        of(data, algorithm: .sha256)
    }

    /// The digest of `data` with `algorithm`.
    public static func of(_ data: some DataProtocol, algorithm: Algorithm) -> Digest {
        var hasher = DigestHasher(algorithm)
        hasher.update(data)
        return hasher.finalize()
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try Digest(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
