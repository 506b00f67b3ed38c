import DevenvArchive
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `devenv image export`: writes an image as an OCI archive (the default, loadable by
/// `podman load` and `skopeo copy oci-archive:`) or as a `docker save` archive.
public struct ImageExporter {
    public enum Format: String, CaseIterable, Sendable {
        case oci, docker
    }

    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// Writes to a temporary file beside `output` and renames it, so an interrupted export
    /// never leaves a truncated archive under the requested name.
    public func export(_ image: StoredImage, to output: String, format: Format) throws {
        let directory = (output as NSString).deletingLastPathComponent
        let temp = "\(directory.isEmpty ? "." : directory)/.\((output as NSString).lastPathComponent).partial-\(getpid())"
        do {
            let writer = try ArchiveFileWriter(path: temp)
            switch format {
            case .oci: try writeOCI(image, to: writer)
            case .docker: try writeDocker(image, to: writer)
            }
            try writer.close()
            try AtomicFile.rename(temp, to: output)
        } catch {
            unlink(temp)
            throw error
        }
    }

    private func writeOCI(_ image: StoredImage, to writer: ArchiveFileWriter) throws {
        try writer.add("oci-layout", data: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        var entry = image.manifestDescriptor
        entry.annotations = [ReferenceStore.refNameAnnotation: image.name]
        try writer.add("index.json", data: OCIDocument.encode(ImageIndex(manifests: [entry])))
        try writer.addDirectory("blobs")
        try writer.addDirectory("blobs/sha256")
        let digests = [image.manifestDescriptor.digest, image.manifest.config.digest] + image.manifest.layers.map(\.digest)
        var written = Set<Digest>()
        for digest in digests where written.insert(digest).inserted {
            // The archive names each blob by its digest: what goes in must hash to it.
            try store.content.verify(digest)
            try writer.add("blobs/\(digest.algorithm.rawValue)/\(digest.encoded)", contentsOf: store.content.path(for: digest))
        }
    }

    /// The `docker save` layout: manifest.json, the config as `<hex>.json` and each layer
    /// uncompressed as `<diffid-hex>/layer.tar`.
    private func writeDocker(_ image: StoredImage, to writer: ArchiveFileWriter) throws {
        let configName = "\(image.manifest.config.digest.encoded).json"
        try writer.add(configName, contentsOf: store.content.path(for: image.manifest.config.digest))
        var layerNames: [String] = []
        for (number, layer) in image.manifest.layers.enumerated() {
            let diffID = image.config.rootfs.diffIDs[number]
            let name = "\(diffID.encoded)/layer.tar"
            layerNames.append(name)
            let temp = "\(store.layout.tmp)/export-\(UUID().uuidString).tar"
            defer { unlink(temp) }
            let output = try FileDescriptor.open(temp, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            let actual = try LayerReader.copyUncompressed(layerAt: store.content.path(for: layer.digest), to: output.raw,
                                                          diffIDAlgorithm: diffID.algorithm)
            guard actual == diffID else {
                throw KitError.exportFailed(image: image.name, reason: "layer \(layer.digest) decompresses to \(actual), not the DiffID \(diffID) its config names")
            }
            try writer.addDirectory(diffID.encoded)
            try writer.add(name, contentsOf: temp)
        }
        let entry = DockerArchiveManifest(config: configName, repoTags: [image.familiarName], layers: layerNames)
        try writer.add("manifest.json", data: OCIDocument.encode([entry]))
    }
}
