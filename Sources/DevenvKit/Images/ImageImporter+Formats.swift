import DevenvArchive
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ImageImporter {
    // MARK: Root filesystems

    /// A single-layer image whose layer `encode` writes to the given path.
    func importRootfs(path: String, tag: Reference, encode: (String) throws -> LayerBlob) throws -> StoredImage {
        progress("layer from \(path)")
        let output = "\(store.layout.ingest)/\(UUID().uuidString).layer"
        defer { unlink(output) }
        let layer = try encode(output)
        try store.content.adoptVerified(file: output, digest: layer.digest)
        let created = ISO8601DateFormatter().string(from: Self.creationDate(of: path))
        let config = ImageConfig(
            config: ImageConfig.RunConfig(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cmd: ["/bin/sh"]),
            diffIDs: [layer.diffID],
            history: [ImageConfig.History(created: created, createdBy: "devenv image import \((path as NSString).lastPathComponent)")],
            created: created
        )
        let descriptor = Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)
        return try store.commitImage(name: tag.description, config: config, layers: [descriptor])
    }

    /// `SOURCE_DATE_EPOCH` when set, else when the tarball or directory last changed: importing
    /// the same root filesystem twice gives the same image, in any store.
    static func creationDate(of path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Date {
        if let epoch = environment["SOURCE_DATE_EPOCH"].flatMap(Int.init), epoch >= 0 {
            return Date(timeIntervalSince1970: TimeInterval(epoch))
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return Date() }
        return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
    }

    // MARK: docker save archives

    /// The DiffID of a layer file with `algorithm`: its uncompressed stream's digest.
    static func diffID(of layer: String, algorithm: Digest.Algorithm) throws -> Digest {
        let sink = try FileDescriptor.open("/dev/null", O_WRONLY)
        return try LayerReader.copyUncompressed(layerAt: layer, to: sink.raw, maxBytes: .max, diffIDAlgorithm: algorithm)
    }

    func importDockerArchive(_ archive: String, manifest: Data, members: Set<String>, tag: Reference, ref: String?) throws -> StoredImage {
        let entries: [DockerArchiveManifest] = try OCIDocument.decode(manifest, as: "manifest.json of \(archive)")
        let entry = try pickDockerEntry(entries, archive: archive, ref: ref)
        for name in [entry.config] + entry.layers where !members.contains(name) {
            throw KitError.importFailed(source: archive, reason: "manifest.json names '\(Printable.escape(name))', which the archive does not contain")
        }
        let work = "\(store.layout.tmp)/import-\(UUID().uuidString)"
        guard mkdir(work, 0o700) == 0 else { throw SystemError.last("mkdir", path: work) }
        defer { try? DirectoryRemover.remove(work) }

        // Members are extracted under numbered names, never under their archive names.
        var extracted: [String: String] = [:]
        let wanted = Set([entry.config] + entry.layers)
        let reader = try ArchiveFileReader(path: archive)
        while let member = try reader.next() {
            guard member.isRegularFile, wanted.contains(member.name), extracted[member.name] == nil else { continue }
            let file = "\(work)/\(extracted.count)"
            let output = try FileDescriptor.open(file, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            try reader.readData { try output.writeAll($0, path: file) }
            extracted[member.name] = file
        }

        guard let configFile = extracted[entry.config], let configData = FileManager.default.contents(atPath: configFile) else {
            throw KitError.importFailed(source: archive, reason: "cannot read the image config \(Printable.escape(entry.config))")
        }
        let config: ImageConfig = try OCIDocument.decode(configData, as: "image config \(entry.config)")
        try config.validate(layerCount: entry.layers.count)
        var layers: [Descriptor] = []
        for (number, name) in entry.layers.enumerated() {
            progress("layer \(number + 1)/\(entry.layers.count) \(name)")
            let output = "\(store.layout.ingest)/\(UUID().uuidString).layer"
            defer { unlink(output) }
            let blob = try LayerWriter.recompress(tarAt: extracted[name]!, to: output, compression: compression)
            let expected = config.rootfs.diffIDs[number]
            // recompress hashes SHA-256; a config may name sha512 DiffIDs (image-spec allows it).
            let actual = expected.algorithm == blob.diffID.algorithm ? blob.diffID : try Self.diffID(of: extracted[name]!, algorithm: expected.algorithm)
            guard actual == expected else {
                throw KitError.importFailed(source: archive, reason: "layer \(Printable.escape(name)) has DiffID \(actual) but the config says \(expected)")
            }
            try store.content.adoptVerified(file: output, digest: blob.digest)
            layers.append(Descriptor(mediaType: blob.mediaType, digest: blob.digest, size: blob.size))
        }
        // The config is kept byte for byte so its digest (the image id docker shows) survives.
        let configDescriptor = try store.content.put(configData, mediaType: MediaType.imageConfig)
        let imageManifest = ImageManifest(config: configDescriptor, layers: layers)
        try imageManifest.validate()
        let manifestDescriptor = try store.content.put(OCIDocument.encode(imageManifest), mediaType: MediaType.imageManifest)
        try store.references.set(tag.description, to: manifestDescriptor)
        return try store.image(tag.description)
    }

    private func pickDockerEntry(_ entries: [DockerArchiveManifest], archive: String, ref: String?) throws -> DockerArchiveManifest {
        if let ref {
            let wanted = (try? Reference(parsing: ref))?.description ?? ref
            if let match = entries.first(where: { ($0.repoTags ?? []).contains { ($0 == ref) || ((try? Reference(parsing: $0))?.description == wanted) } }) {
                return match
            }
            throw KitError.importFailed(source: archive, reason: "no image tagged '\(Printable.escape(ref))' in the archive")
        }
        guard entries.count == 1 else {
            let tags = entries.flatMap { $0.repoTags ?? [] }.map { Printable.escape($0) }
            throw KitError.importFailed(source: archive, reason: "the archive holds \(entries.count) images (\(tags.joined(separator: ", "))); pick one with --ref NAME")
        }
        return entries[0]
    }
}
