/// An owner as an image records it (a tar header's uid and gid).
public struct RecordedOwner: Hashable, Sendable, Codable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// `user.devenv.owner`: where devenv, staging a tree as a user that cannot chown (a
    /// rootless copy step, ADD's archive), keeps the owner the node is to have in the layer.
    public static let xattrName = "user.devenv.owner"

    /// The attribute's value: `uid:gid` in decimal.
    public var xattrValue: [UInt8] { Array("\(uid):\(gid)".utf8) }

    public init?(xattrValue: [UInt8]) {
        let parts = xattrValue.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 2, let uid = UInt32(String(decoding: parts[0], as: UTF8.self)),
              let gid = UInt32(String(decoding: parts[1], as: UTF8.self)) else { return nil }
        self.init(uid: uid, gid: gid)
    }
}

/// How the owners of a rootless devenv's trees read as the image's owners (docs/layers.md,
/// "Owners without root"). Snapshots hold the image's owners in the user namespace's ids
/// (unpacked there; on disk the subordinate ids they map to), which map back through the
/// namespace's map. Trees devenv stages itself as the user (copy steps, ADD's archives)
/// cannot be chowned: their nodes belong to the user, with the owner they should have in
/// `user.devenv.owner`. So a node's image owner is, per id: the recorded one when the node
/// has the user's id (as seen where the tree is read), else its id mapped through the
/// namespace's map. nil (root) means the ids on disk are the image's.
public struct ImageOwnership: Hashable, Sendable, Codable {
    /// host ids [hostID, hostID+count) are image ids [imageID, imageID+count).
    public struct Range: Hashable, Sendable, Codable {
        public var imageID: UInt32
        public var hostID: UInt32
        public var count: UInt32

        public init(imageID: UInt32, hostID: UInt32, count: UInt32) {
            self.imageID = imageID
            self.hostID = hostID
            self.count = count
        }
    }

    /// The unpacking user's ids where the tree is read (the user's own on the host; in
    /// the user namespace, the container ids they map to).
    public var unpacker: RecordedOwner
    /// Empty: the ids read are already the image's (inside the user namespace).
    public var uids: [Range]
    public var gids: [Range]

    public init(unpacker: RecordedOwner, uids: [Range] = [], gids: [Range] = []) {
        self.unpacker = unpacker
        self.uids = uids
        self.gids = gids
    }

    /// The image's owner of a node with on-disk `uid`/`gid` and recorded owner `recorded`.
    public func imageOwner(uid: UInt32, gid: UInt32, recorded: RecordedOwner?) -> RecordedOwner {
        RecordedOwner(uid: uid == unpacker.uid ? recorded?.uid ?? Self.map(uid, uids) : Self.map(uid, uids),
                      gid: gid == unpacker.gid ? recorded?.gid ?? Self.map(gid, gids) : Self.map(gid, gids))
    }

    /// Ids outside every range (another host user's files) are kept as they are.
    static func map(_ id: UInt32, _ ranges: [Range]) -> UInt32 {
        for range in ranges where UInt64(id) >= UInt64(range.hostID) && UInt64(id) < UInt64(range.hostID) + UInt64(range.count) {
            return range.imageID + (id - range.hostID)
        }
        return id
    }
}

extension XattrIO {
    /// The node's `user.devenv.owner`, nil when absent or malformed.
    static func recordedOwner(_ target: Target) -> RecordedOwner? {
        guard let value = try? value(target, name: Array(RecordedOwner.xattrName.utf8)) else { return nil }
        return RecordedOwner(xattrValue: value)
    }
}
