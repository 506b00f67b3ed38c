/// Files placed into the image: from the project or build context, or from another stage
/// or image (`from`). The files themselves are the step's inputs (content digests, found by
/// the Kit); this is what the step says about where they go.
public struct CopyStep: Hashable, Sendable, Codable {
    /// The sources as written (variables expanded), for messages.
    public var sources: [String]
    /// Absolute path in the image; a trailing `/` makes it a directory. Resolved through the
    /// image's symlinks when the step runs.
    public var destination: String
    /// The stage or image the files come from, as written; nil for the project or context.
    public var from: String?
    /// `--chown` as written: `uid`, `uid:gid`, `name`, `name:group`; nil keeps root (or the
    /// source's owner, for files from a stage).
    public var owner: String?
    /// `--chmod`: permission bits for every copied file and directory.
    public var mode: UInt32?
    /// ADD: local tar archives among the sources are unpacked into the destination.
    public var unpacksArchives: Bool

    public init(sources: [String], destination: String, from: String? = nil, owner: String? = nil, mode: UInt32? = nil,
                unpacksArchives: Bool = false) {
        self.sources = sources
        self.destination = destination
        self.from = from
        self.owner = owner
        self.mode = mode
        self.unpacksArchives = unpacksArchives
    }
}
