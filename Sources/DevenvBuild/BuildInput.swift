import DevenvOCI

/// A file a step reads from the project, identified by content: the cache key depends on
/// what the file holds and how it is stored, not on when it was touched.
public struct BuildInput: Hashable, Sendable, Codable, Comparable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case file, symlink, directory
    }

    /// Project-relative path.
    public var path: String
    public var kind: Kind
    /// Content digest of a file, or of a symlink's target text; nil for directories.
    public var digest: Digest?
    /// Permission bits (the executable bit changes what a copied file does).
    public var mode: UInt32
    /// `uid:gid` when the copy keeps the source's ownership (files from another stage).
    public var owner: String?
    /// The mtime (seconds since the epoch) the file keeps in the image instead of the build's
    /// clamped one: ADD <url>'s `Last-Modified`, as BuildKit gives it. Part of the key,
    /// since it is part of the layer; nil for everything else.
    public var mtime: Int64?

    public init(path: String, kind: Kind, digest: Digest?, mode: UInt32, owner: String? = nil, mtime: Int64? = nil) {
        self.path = path
        self.kind = kind
        self.digest = digest
        self.mode = mode
        self.owner = owner
        self.mtime = mtime
    }

    public static func < (lhs: BuildInput, rhs: BuildInput) -> Bool {
        Array(lhs.path.utf8).lexicographicallyPrecedes(Array(rhs.path.utf8))
    }
}
