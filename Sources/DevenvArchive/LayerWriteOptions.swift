import DevenvOCI
import Foundation

/// How a directory becomes a layer.
public struct LayerWriteOptions: Sendable {
    public var compression: LayerCompression = .zstd
    /// zstd 3 or gzip 6 when nil.
    public var level: Int32?
    /// Clamp every mtime to at most this (seconds since the epoch), like SOURCE_DATE_EPOCH.
    public var clampMTime: Int64?
    /// Turn overlayfs whiteouts (0:0 character devices, opaque xattrs) into OCI whiteouts.
    /// Off for a plain directory that is not an overlay upper dir.
    public var translateOverlayWhiteouts = true
    /// How the tree's owners read as the image's (a rootless store's trees: `ImageOwnership`);
    /// nil records the owners on disk.
    public var ownership: ImageOwnership?
    /// Owners by entry path (`dir/file`, no leading slash), ahead of everything else: a tree
    /// staged without the right to chown (`ImageTreeStager` rootless).
    public var owners: [[UInt8]: RecordedOwner] = [:]
    /// Mtimes by entry path (as `owners`), kept as they are instead of clamped: a file whose
    /// time is part of its definition (ADD <url>'s `Last-Modified`).
    public var mtimes: [[UInt8]: Int64] = [:]
    /// libzstd worker threads (at least 1; the output is identical for any count >= 1).
    public var zstdWorkers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))

    public init() {}
}

/// A written layer blob.
public struct LayerBlob: Sendable, Equatable {
    /// Digest and size of the blob as written (compressed).
    public let digest: Digest
    public let size: Int64
    /// Digest and size of the uncompressed tar.
    public let diffID: Digest
    public let uncompressedSize: Int64
    public let mediaType: String
    public let compression: LayerCompression
    /// Nodes skipped (sockets), escaped for printing.
    public let warnings: [String]
}
