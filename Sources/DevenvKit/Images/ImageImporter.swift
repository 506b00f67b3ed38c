import DevenvArchive
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `devenv image import`: root filesystems (tarball or directory), OCI image layouts
/// (directory or archive) and `docker save` archives become a named image in the store.
/// Every blob is verified against its digest on the way in.
public struct ImageImporter {
    public let store: ImageStore
    public var compression: LayerCompression = .zstd
    public var progress: (String) -> Void = { _ in }

    /// How a directory's owners read as the image's (rootless: a tree a rootless tool made
    /// belongs to subordinate ids, which are the image's ids through devenv's mapping).
    public var ownership: ImageOwnership?

    public init(store: ImageStore, ownership: ImageOwnership? = nil) {
        self.store = store
        self.ownership = ownership
    }

    /// Imports `path` and names it `tag`; `ref` picks one image from a layout that holds several.
    public func importImage(from path: String, tag: Reference, ref: String? = nil) throws -> StoredImage {
        let source = try ImageSource.detect(path)
        return try store.withWriteAccess {
            let manifest: Descriptor
            switch source {
            case let .ociLayoutDirectory(directory):
                manifest = try importLayoutDirectory(directory, ref: ref)
            case let .ociArchive(archive, index):
                manifest = try importOCIArchive(archive, index: index, ref: ref)
            case let .dockerArchive(archive, manifestJSON, members):
                return try importDockerArchive(archive, manifest: manifestJSON, members: members, tag: tag, ref: ref)
            case let .rootfsArchive(archive):
                return try importRootfs(path: archive, tag: tag) { output in
                    try LayerWriter.recompress(tarAt: archive, to: output, compression: compression)
                }
            case let .rootfsDirectory(directory):
                return try importRootfs(path: directory, tag: tag) { output in
                    var options = LayerWriteOptions()
                    options.compression = compression
                    options.translateOverlayWhiteouts = false
                    options.ownership = ownership
                    return try LayerWriter.write(directory: directory, to: output, options: options)
                }
            }
            try store.references.set(tag.description, to: manifest)
            return try store.image(tag.description)
        }
    }

    // MARK: OCI layouts

    private func importLayoutDirectory(_ directory: String, ref: String?) throws -> Descriptor {
        guard let bytes = try FileDescriptor.readRegularFileIfPresent("\(directory)/index.json", limit: Int(OCIDocument.maxSize)) else {
            throw KitError.importFailed(source: directory, reason: "no index.json in the OCI layout")
        }
        let indexData = Data(bytes)
        let copy = { (digest: Digest) throws in
            guard !store.content.contains(digest) else { return }
            let file = "\(directory)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
            let input = try FileDescriptor.openRegularFile(file, operation: "import")
            let writer = try store.content.writer(algorithm: digest.algorithm)
            try writer.write(contentsOf: input, path: file)
            try writer.commit(expected: digest, context: "import blob \(digest) from \(directory)")
        }
        let manifest = try selectManifest(indexData, source: directory, ref: ref, fetch: copy)
        guard case let .manifest(parsed) = try OCIDocument.parse(try store.content.read(manifest.digest), declaredType: manifest.mediaType) else {
            throw KitError.importFailed(source: directory, reason: "\(manifest.digest) is not an image manifest")
        }
        try copy(parsed.config.digest)
        for (number, layer) in parsed.layers.enumerated() {
            progress("layer \(number + 1)/\(parsed.layers.count) \(layer.digest.short)")
            try copy(layer.digest)
        }
        return manifest
    }

    private func importOCIArchive(_ archive: String, index: Data, ref: String?) throws -> Descriptor {
        let reader = try ArchiveFileReader(path: archive)
        while let entry = try reader.next() {
            guard entry.isRegularFile, entry.name.hasPrefix("blobs/") else { continue }
            let parts = entry.name.split(separator: "/")
            guard parts.count == 3, let digest = try? Digest(parsing: "\(parts[1]):\(parts[2])") else {
                throw KitError.importFailed(source: archive, reason: "member '\(Printable.escape(entry.name))' is not named blobs/<algorithm>/<hex>")
            }
            guard !store.content.contains(digest) else { continue }
            progress("blob \(digest.short) (\(entry.size) bytes)")
            let writer = try store.content.writer(algorithm: digest.algorithm)
            try reader.readData { try writer.write($0) }
            try writer.commit(expected: digest, context: "import blob \(digest) from \(archive)")
        }
        let manifest = try selectManifest(index, source: archive, ref: ref) { digest in
            guard store.content.contains(digest) else { throw StoreError.blobNotFound(digest) }
        }
        let image = try store.load(name: "import", descriptor: manifest)
        for digest in [image.manifest.config.digest] + image.manifest.layers.map(\.digest) where !store.content.contains(digest) {
            throw KitError.importFailed(source: archive, reason: "blob \(digest) named by the manifest is missing from the archive")
        }
        return manifest
    }

    /// Picks the image manifest from a layout's index: the entry named `ref`, the only
    /// entry, or the host platform's manifest of a multi-platform index.
    private func selectManifest(_ indexData: Data, source: String, ref: String?, fetch: (Digest) throws -> Void) throws -> Descriptor {
        let index: ImageIndex = try OCIDocument.decode(indexData, as: "index.json of \(source)")
        var candidates = index.manifests
        if let ref {
            candidates = candidates.filter { $0.annotations?[ReferenceStore.refNameAnnotation] == ref }
            guard !candidates.isEmpty else {
                throw KitError.importFailed(source: source, reason: "no image named '\(Printable.escape(ref))'; the layout has: \(names(index))")
            }
        }
        guard candidates.count == 1 || ref != nil || candidates.contains(where: { $0.platform != nil }) else {
            throw KitError.importFailed(source: source, reason: "the layout holds \(candidates.count) images (\(names(index))); pick one with --ref NAME")
        }
        var descriptor = try candidates.count == 1 ? candidates[0] : ImageIndex(manifests: candidates).manifest(for: .host)
        for _ in 0..<4 {
            try fetch(descriptor.digest)
            switch try OCIDocument.parse(try store.content.read(descriptor.digest), declaredType: descriptor.mediaType) {
            case .manifest:
                descriptor.annotations = nil
                descriptor.platform = nil
                return descriptor
            case let .index(nested):
                descriptor = try nested.manifest(for: .host)
            }
        }
        throw KitError.importFailed(source: source, reason: "image indexes nested deeper than 4 levels")
    }

    private func names(_ index: ImageIndex) -> String {
        let names = index.manifests.compactMap { $0.annotations?[ReferenceStore.refNameAnnotation] }
        return names.isEmpty ? "\(index.manifests.count) unnamed entries" : names.map { Printable.escape($0) }.joined(separator: ", ")
    }
}
