/// One source of a copy step after wildcard expansion, with every file it contributes.
public struct CopyItem: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A file (or a symlink): `entries` has one entry with an empty relative path.
        case file
        /// A directory: its contents are copied (not the directory itself).
        case directory
        /// A local tar archive that ADD unpacks into the destination directory.
        case archive
    }

    /// The source's base name: what a file is called in a directory destination.
    public var name: String
    public var kind: Kind
    public var entries: [CopyEntry]

    public init(name: String, kind: Kind, entries: [CopyEntry]) {
        self.name = name
        self.kind = kind
        self.entries = entries
    }
}

/// A file, symlink or directory placed by a copy step.
public struct CopyEntry: Sendable, Hashable {
    /// Absolute host path (in the build context, or in a stage's snapshot).
    public var source: String
    /// Path below the item's destination; empty for a file item.
    public var relative: String
    public var input: BuildInput
    /// Ownership kept from the source (files copied from a stage); nil means root, or `--chown`.
    public var uid: UInt32?
    public var gid: UInt32?

    public init(source: String, relative: String, input: BuildInput, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.source = source
        self.relative = relative
        self.input = input
        self.uid = uid
        self.gid = gid
    }
}
