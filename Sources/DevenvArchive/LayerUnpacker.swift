import DevenvOCI
import DevenvSystem

/// Unpacks a layer blob into a directory that becomes one overlayfs lower dir (containerd's
/// overlay snapshotter model). Policies are in docs/layers.md.
public enum LayerUnpacker {
    /// Decompresses (sniffing gzip/zstd/tar; a `declared` compression that disagrees is an
    /// error), hashes the uncompressed stream into the diffID, and extracts every entry
    /// below `directory`, never writing outside it. OCI whiteouts become overlay whiteouts.
    /// Parent paths resolve through `lowers` as overlayfs will show them (a lower layer's
    /// `lib -> usr/lib` is followed); only `directory` is written.
    /// On error the directory holds a partial tree: the caller unpacks into a temporary
    /// directory and renames it into place only after success.
    public static func unpack(layerAt path: String, declared: LayerCompression?, into directory: String,
                              lowers: LowerLayers = .none, options: UnpackOptions = UnpackOptions()) throws -> UnpackReport {
        try unpack(object: path, into: directory, lowers: lowers, options: options) {
            try DecodedStream(path: path, declared: declared, maxBytes: options.maxUncompressedBytes, diffIDAlgorithm: options.diffIDAlgorithm)
        }
    }

    /// Unpacks a layer blob while it is still being written (downloaded): reads follow the
    /// file until its writer marks it complete, and fail if the writer abandons it. The
    /// caller must not use the result before the blob itself was verified.
    public static func unpack(growing layer: GrowingFile, declared: LayerCompression?, into directory: String,
                              lowers: LowerLayers = .none, options: UnpackOptions = UnpackOptions()) throws -> UnpackReport {
        try unpack(object: layer.path, into: directory, lowers: lowers, options: options) {
            try DecodedStream(growing: layer, declared: declared, maxBytes: options.maxUncompressedBytes, diffIDAlgorithm: options.diffIDAlgorithm)
        }
    }

    private static func unpack(object path: String, into directory: String, lowers: LowerLayers, options: UnpackOptions,
                               open: () throws -> DecodedStream) throws -> UnpackReport {
        do {
            let stream = try open()
            stream.start()
            defer { stream.cancel() }
            let extractor = try Extractor(directory: directory, lowers: lowers, options: options)
            var entries = 0
            try withUTF8Locale {
                let reader = try TarReader { try stream.next() }
                while let entry = try reader.next() {
                    entries += 1
                    guard entries <= options.maxEntries else {
                        throw Failure(entry: entry.path, .limitExceeded, "the layer has more than \(options.maxEntries) entries")
                    }
                    do {
                        try extractor.apply(entry, reader: reader)
                    } catch let failure as Failure {
                        throw failure.with(entry: entry.path)
                    } catch let error as SystemError {
                        throw Failure(entry: entry.path, .system(operation: error.operation, errno: error.errno), error.operation)
                    }
                }
            }
            try extractor.finish()
            let (diffID, size) = try stream.finish()
            return UnpackReport(diffID: diffID, compression: stream.compression, entries: entries,
                                uncompressedBytes: size, warnings: extractor.warnings.all)
        } catch {
            throw error.archiveError(stage: .unpack, object: path)
        }
    }
}
