import FoundationEssentials

/// An OCI content descriptor: what a blob is, its digest and its exact size.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: Platform?
    public var urls: [String]?
    public var data: String?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    /// Checks the parts that can be checked without the blob: a non-negative size within
    /// `maxSize`, and an embedded `data` field that matches the digest.
    public func validate(maxSize: Int64 = .max, context: String) throws {
        guard size >= 0 else {
            throw OCIError.invalidDocument(what: context, reason: "descriptor \(digest) has negative size \(size)")
        }
        guard size <= maxSize else {
            throw OCIError.tooLarge(what: "\(context) \(digest)", size: Int(clamping: size), limit: Int(clamping: maxSize))
        }
        if let data {
            guard let bytes = Data(base64Encoded: data) else {
                throw OCIError.invalidDocument(what: context, reason: "descriptor \(digest) has a 'data' field that is not base64")
            }
            guard Int64(bytes.count) == size, Digest.of(bytes, algorithm: digest.algorithm) == digest else {
                throw OCIError.invalidDocument(what: context, reason: "descriptor \(digest) has a 'data' field that does not match its digest or size")
            }
        }
    }
}

public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// The platform this binary runs on, in OCI (GOARCH) spelling.
    public static var host: Platform {
        #if arch(x86_64)
        return Platform(architecture: "amd64", os: "linux")
        #elseif arch(arm64)
        return Platform(architecture: "arm64", os: "linux", variant: "v8")
        #else
        return Platform(architecture: "unknown", os: "linux")
        #endif
    }

    public func matches(_ other: Platform) -> Bool {
        guard architecture == other.architecture, os == other.os else { return false }
        guard let variant, let otherVariant = other.variant else { return true }
        return variant == otherVariant
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }
}
