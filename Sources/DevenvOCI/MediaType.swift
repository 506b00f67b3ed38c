/// The media types devenv reads and writes. Unknown layer types are never parsed
/// (image-spec: implementations MUST NOT parse unknown media types).
public enum MediaType {
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageConfig = "application/vnd.oci.image.config.v1+json"
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let layerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd"

    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    public static func isIndex(_ type: String) -> Bool { type == imageIndex || type == dockerManifestList }
    public static func isManifest(_ type: String) -> Bool { type == imageManifest || type == dockerManifest }
    public static func isConfig(_ type: String) -> Bool { type == imageConfig || type == dockerConfig }

    /// The compression a layer media type declares, or nil when the type is not a layer we
    /// can apply. The unpacker still sniffs magic bytes and rejects a mismatch.
    public static func layerCompression(_ type: String) -> LayerCompression? {
        switch type {
        case layerTar, "application/vnd.docker.image.rootfs.diff.tar": return LayerCompression.none
        case layerTarGzip, dockerLayerGzip: return .gzip
        case layerTarZstd: return .zstd
        default: return nil
        }
    }

    public static func layer(_ compression: LayerCompression) -> String {
        switch compression {
        case .none: return layerTar
        case .gzip: return layerTarGzip
        case .zstd: return layerTarZstd
        }
    }
}

public enum LayerCompression: String, Sendable, Codable, CaseIterable {
    case none, gzip, zstd
}
