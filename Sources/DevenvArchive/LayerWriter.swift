import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Creates layer blobs: from a directory (committing an overlay upper dir), or by
/// re-encoding an existing tar.
public enum LayerWriter {
    /// Writes `directory` as a layer tar, compressed as `options.compression`, to `output`
    /// (created or truncated; removed again on failure) and fsyncs it. The same tree and
    /// options give the same digest.
    public static func write(directory: String, to output: String, options: LayerWriteOptions = LayerWriteOptions()) throws -> LayerBlob {
        do {
            let root = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
            let sink = try CompressingSink(path: output, compression: options.compression, level: options.level,
                                           workers: options.zstdWorkers)
            var warnings: [String] = []
            do {
                try withUTF8Locale {
                    let writer = try TarWriter { try sink.write($0) }
                    let encoder = TreeEncoder(options: options, writer: writer)
                    try encoder.encode(root)
                    try writer.close()
                    warnings = encoder.warnings.all
                }
            } catch {
                sink.abandon()
                throw error
            }
            return blob(try sink.finish(), options.compression, warnings)
        } catch {
            throw error.archiveError(stage: .create, object: directory)
        }
    }

    /// Writes `directory` as an uncompressed layer tar to `fd` (a pipe to the process that
    /// compresses it): what a helper inside a user namespace runs, so that it reads the tree
    /// with the namespace's privileges and records ownership as the container sees it.
    /// Returns the warnings (skipped sockets).
    public static func writeTar(directory: String, to fd: Int32, options: LayerWriteOptions = LayerWriteOptions()) throws -> [String] {
        do {
            let root = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
            let output = FileDescriptor(adopting: fd)
            defer { _ = output.release() }
            return try withUTF8Locale {
                let writer = try TarWriter { try output.writeAll($0) }
                let encoder = TreeEncoder(options: options, writer: writer)
                try encoder.encode(root)
                try writer.close()
                return encoder.warnings.all
            }
        } catch {
            throw error.archiveError(stage: .create, object: directory)
        }
    }

    /// Compresses a layer tar read from `fd` until end of file (the other end of
    /// `writeTar`) into `output`, then calls `finish`, which says whether the producer
    /// succeeded (it throws otherwise) and returns its warnings. The output is removed
    /// when anything fails.
    public static func write(tarFrom fd: Int32, object: String, to output: String, options: LayerWriteOptions = LayerWriteOptions(),
                             finish: () throws -> [String]) throws -> LayerBlob {
        let sink: CompressingSink
        do {
            sink = try CompressingSink(path: output, compression: options.compression, level: options.level, workers: options.zstdWorkers)
        } catch {
            throw error.archiveError(stage: .create, object: object)
        }
        var readFailure: Error?
        do {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer { buffer.deallocate() }
            let input = FileDescriptor(adopting: fd)
            defer { _ = input.release() }
            while true {
                let count = try input.read(into: buffer)
                if count == 0 { break }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
        } catch {
            readFailure = error.archiveError(stage: .create, object: object)
        }
        // A producer that fails closes its end early, so a short stream is its error; a
        // failure on this side (the disk is full) stops the producer instead, and is the cause.
        let warnings: [String]
        do {
            if let readFailure {
                _ = try? finish()
                throw readFailure
            }
            warnings = try finish()
        } catch {
            sink.abandon()
            throw error
        }
        do {
            return blob(try sink.finish(), options.compression, warnings)
        } catch {
            throw error.archiveError(stage: .create, object: object)
        }
    }

    /// Re-encodes a tar (plain, gzip or zstd, sniffed) as a layer blob. The input is read
    /// through libarchive so that anything that is not a tar fails clearly; its bytes are
    /// kept exactly, so the diffID is the input's uncompressed digest.
    public static func recompress(tarAt input: String, to output: String, compression: LayerCompression,
                                  options: LayerWriteOptions = LayerWriteOptions()) throws -> LayerBlob {
        do {
            let stream = try DecodedStream(path: input, declared: nil, maxBytes: Int64.max)
            stream.start()
            defer { stream.cancel() }
            let sink = try CompressingSink(path: output, compression: compression, level: options.level,
                                           workers: options.zstdWorkers)
            let diffID: Digest
            do {
                diffID = try LayerReader.pass(stream) { try sink.write($0) }
            } catch {
                sink.abandon()
                throw error
            }
            let result = try sink.finish()
            guard result.diffID == diffID else {
                unlink(output)
                throw Failure(.corrupt, "re-encoded stream digest \(result.diffID) differs from the input's \(diffID)")
            }
            return blob(result, compression, [])
        } catch {
            throw error.archiveError(stage: .recompress, object: input)
        }
    }

    private static func blob(_ result: CompressingSink.Result, _ compression: LayerCompression, _ warnings: [String]) -> LayerBlob {
        LayerBlob(digest: result.digest, size: result.size, diffID: result.diffID, uncompressedSize: result.uncompressedSize,
                  mediaType: MediaType.layer(compression), compression: compression, warnings: warnings)
    }
}

/// Reading layer blobs without extracting them.
public enum LayerReader {
    /// Writes the uncompressed tar of a layer blob to `fd` (e.g. for a docker-archive export)
    /// and returns its diffID. The stream is checked to be a tar on the way.
    public static func copyUncompressed(layerAt path: String, declared: LayerCompression? = nil, to fd: Int32,
                                        maxBytes: Int64 = UnpackOptions.defaultMaxUncompressedBytes,
                                        diffIDAlgorithm: Digest.Algorithm = .sha256) throws -> Digest {
        do {
            let stream = try DecodedStream(path: path, declared: declared, maxBytes: maxBytes, diffIDAlgorithm: diffIDAlgorithm)
            stream.start()
            defer { stream.cancel() }
            let output = FileDescriptor(adopting: fd)
            defer { _ = output.release() }
            return try pass(stream) { try output.writeAll($0) }
        } catch {
            throw error.archiveError(stage: .decompress, object: path)
        }
    }

    /// Hands every uncompressed byte to `consume` while libarchive walks the tar headers (so
    /// garbage fails), then the bytes after the end-of-archive; returns the diffID.
    static func pass(_ stream: DecodedStream, _ consume: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Digest {
        try withUTF8Locale {
            let reader = try TarReader {
                let block = try stream.next()
                if let block { try consume(block) }
                return block
            }
            while let entry = try reader.next() {
                try reader.skipData(entry: entry.path)
            }
        }
        return try stream.finish(consume).diffID
    }
}
