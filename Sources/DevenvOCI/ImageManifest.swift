import FoundationEssentials

/// An OCI image manifest (or the Docker schema 2 manifest, which has the same shape).
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String? = MediaType.imageManifest
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?
    public var subject: Descriptor?
    public var artifactType: String?

    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// Layers devenv will stack in one overlay at most. Each layer is one overlayfs
    /// lowerdir and the mount options must fit in one page; moby stops at 125.
    public static let maxLayers = 125

    public func validate() throws {
        guard schemaVersion == 2 else {
            throw OCIError.invalidDocument(what: "image manifest", reason: "schemaVersion \(schemaVersion) is not supported (only 2)")
        }
        guard layers.count <= Self.maxLayers else {
            throw OCIError.invalidDocument(what: "image manifest", reason: "\(layers.count) layers exceed devenv's limit of \(Self.maxLayers)")
        }
        guard MediaType.isConfig(config.mediaType) else {
            throw OCIError.unsupportedMediaType(config.mediaType, context: "image manifest config")
        }
        try config.validate(maxSize: OCIDocument.maxSize, context: "image config")
        for layer in layers {
            guard MediaType.layerCompression(layer.mediaType) != nil else {
                throw OCIError.unsupportedMediaType(layer.mediaType, context: "layer \(layer.digest)")
            }
            try layer.validate(context: "layer")
        }
    }
}

/// An OCI image index (or a Docker manifest list).
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String? = MediaType.imageIndex
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The manifest for `platform`, or an error listing what the index offers.
    public func manifest(for platform: Platform) throws -> Descriptor {
        let candidates = manifests.filter { MediaType.isManifest($0.mediaType) }
        if let match = candidates.first(where: { $0.platform.map { $0.matches(platform) } ?? false }) {
            return match
        }
        if candidates.count == 1, candidates[0].platform == nil { return candidates[0] }
        let offered = Set(candidates.compactMap { $0.platform?.description }).sorted().prefix(20)
        throw OCIError.invalidDocument(what: "image index", reason: "no manifest for platform \(platform); available: \(offered.isEmpty ? "none" : offered.joined(separator: ", "))")
    }
}
