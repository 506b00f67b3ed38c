import DevenvArchive
import DevenvRuntime

/// How a rootless store's trees read as images (`ImageOwnership`), from devenv's mapping.
extension ImageOwnership {
    /// Read by devenv itself, on the host: the user's files are what layers recorded in
    /// `user.devenv.owner`, subordinate ids are container ids. nil as root.
    public static func onHost(_ host: HostIdentity) -> ImageOwnership? {
        guard let mapping = host.idMapping else { return nil }
        let ranges = { (entries: [IDMapEntry]) in entries.map { Range(imageID: $0.containerID, hostID: $0.hostID, count: $0.count) } }
        return ImageOwnership(unpacker: RecordedOwner(uid: host.uid, gid: host.gid), uids: ranges(mapping.uids), gids: ranges(mapping.gids))
    }

    /// Read in a user namespace with `mapping` (the commit helper): ids are already the
    /// container's, and the user's own appear as whatever `mapping` makes them.
    static func inNamespace(mapping: IDMapping, host: HostIdentity) -> ImageOwnership {
        ImageOwnership(unpacker: RecordedOwner(uid: mapping.containerUID(forHost: host.uid) ?? 65534,
                                               gid: mapping.containerGID(forHost: host.gid) ?? 65534))
    }
}
