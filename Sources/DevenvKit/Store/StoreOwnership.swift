import DevenvArchive
import DevenvRuntime

/// How a rootless store's trees read as images (`ImageOwnership`), from devenv's mapping.
extension ImageOwnership {
    /// Read by devenv itself, on the host: subordinate ids are container ids, and the user's
    /// own files carry their owner in `user.devenv.owner` when devenv staged them. nil as root.
    public static func onHost(_ host: HostIdentity) -> ImageOwnership? {
        guard let mapping = host.idMapping else { return nil }
        let ranges = { (entries: [IDMapEntry]) in entries.map { Range(imageID: $0.containerID, hostID: $0.hostID, count: $0.count) } }
        return ImageOwnership(unpacker: RecordedOwner(uid: host.uid, gid: host.gid), uids: ranges(mapping.uids), gids: ranges(mapping.gids))
    }
}
