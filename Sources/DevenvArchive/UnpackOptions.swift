import DevenvOCI
#if canImport(Glibc)
import Glibc
#endif

/// How a layer is unpacked. The defaults suit the current process: as root in the initial
/// user namespace ownership is preserved and overlay xattrs use the `trusted.overlay.`
/// prefix; otherwise files belong to the caller and overlay xattrs use `user.overlay.`
/// (overlay's `userxattr`). Device nodes are never created (docs/layers.md).
public struct UnpackOptions: Sendable {
    /// 32 GiB: above the largest real-world layers, bounded against compression bombs (B1).
    public static let defaultMaxUncompressedBytes: Int64 = 32 << 30
    /// One million entries: above `node_modules`-heavy layers, bounded against inode bombs.
    public static let defaultMaxEntries = 1_000_000

    /// Cap on the uncompressed stream and on any single file's size (including a sparse
    /// file's apparent size).
    public var maxUncompressedBytes: Int64 = UnpackOptions.defaultMaxUncompressedBytes
    /// Cap on tar headers, whiteouts included.
    public var maxEntries: Int = UnpackOptions.defaultMaxEntries
    /// chown entries to their uid/gid from the tar; otherwise they belong to the caller, and
    /// each node's owner is recorded in `user.devenv.owner` (a tree devenv stages as the
    /// user, `ImageOwnership`).
    public var preserveOwnership: Bool
    /// `trusted.overlay.` (rootful overlay) or `user.overlay.` (mounted with `userxattr`).
    public var overlayXattrPrefix: String
    /// syncfs(2) the snapshot's filesystem at the end, before the caller renames it into place.
    public var syncFilesystem = false
    /// The algorithm of the diffID to compute (the image config's `diff_ids` may use sha512).
    public var diffIDAlgorithm: Digest.Algorithm = .sha256

    public init() {
        let root = geteuid() == 0
        let initialNamespace = inInitialUserNamespace()
        preserveOwnership = root
        overlayXattrPrefix = root && initialNamespace ? "trusted.overlay." : "user.overlay."
    }
}

/// What an unpack did.
public struct UnpackReport: Sendable {
    /// The digest of the uncompressed tar stream (`UnpackOptions.diffIDAlgorithm`).
    public let diffID: Digest
    /// The compression found by sniffing the blob.
    public let compression: LayerCompression
    /// Tar headers processed (whiteouts and skipped entries included).
    public let entries: Int
    /// Size of the uncompressed tar stream.
    public let uncompressedBytes: Int64
    /// Entries skipped or attributes not applied, with the reason; escaped for printing.
    public let warnings: [String]
}

/// A bounded list of warnings: a hostile layer with a million device nodes must not make a
/// million-line report.
struct Warnings {
    static let limit = 100
    private(set) var list: [String] = []
    private(set) var dropped = 0

    mutating func add(_ entry: [UInt8], _ message: String) {
        guard list.count < Self.limit else {
            dropped += 1
            return
        }
        list.append("'\(Printable.escape(bytes: entry))': \(message)")
    }

    var all: [String] {
        dropped == 0 ? list : list + ["(\(dropped) more warnings)"]
    }
}
