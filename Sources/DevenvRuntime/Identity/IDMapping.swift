/// One line of `/proc/PID/uid_map` or `gid_map`: container ids [containerID, containerID+count)
/// are host ids [hostID, hostID+count).
public struct IDMapEntry: Hashable, Codable, Sendable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var count: UInt32

    public init(containerID: UInt32, hostID: UInt32, count: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.count = count
    }
}

/// The user namespace's uid and gid maps. devenv uses one fixed mapping for builds and shells
/// (docs/runtime.md): the invoking user's id maps to itself, so files it creates in the working
/// tree stay the user's, and container root plus every other id map to the user's subordinate
/// ranges, so images never need a chown-copy.
public struct IDMapping: Hashable, Codable, Sendable {
    public var uids: [IDMapEntry]
    public var gids: [IDMapEntry]

    public init(uids: [IDMapEntry], gids: [IDMapEntry]) {
        self.uids = uids
        self.gids = gids
    }

    /// Without subordinate ranges only one id can be mapped: container root is the user.
    public static func single(uid: UInt32, gid: UInt32) -> IDMapping {
        IDMapping(uids: [IDMapEntry(containerID: 0, hostID: uid, count: 1)],
                  gids: [IDMapEntry(containerID: 0, hostID: gid, count: 1)])
    }

    /// The user's own id maps to itself; container ids 0, 1, 2, ... (skipping the user's) map
    /// to the subordinate ranges in order. Falls back to `single` when a side has no range.
    public static func keepID(uid: UInt32, gid: UInt32, subordinateUIDs: [SubordinateRange], subordinateGIDs: [SubordinateRange]) -> IDMapping {
        let uids = keepIDEntries(id: uid, ranges: subordinateUIDs)
        let gids = keepIDEntries(id: gid, ranges: subordinateGIDs)
        guard let uids, let gids else { return .single(uid: uid, gid: gid) }
        return IDMapping(uids: uids, gids: gids)
    }

    static func keepIDEntries(id: UInt32, ranges: [SubordinateRange]) -> [IDMapEntry]? {
        var entries: [IDMapEntry] = []
        var nextContainerID: UInt64 = 0
        for range in ranges where range.count > 0 {
            // A range containing the user's own id would map it twice; such a range is skipped.
            if UInt64(id) >= UInt64(range.start) && UInt64(id) < UInt64(range.start) + UInt64(range.count) { continue }
            var hostID = UInt64(range.start)
            var remaining = UInt64(range.count)
            while remaining > 0 {
                if nextContainerID == UInt64(id) { nextContainerID += 1 }
                // Stop a segment just before the user's own container id.
                let room = nextContainerID < UInt64(id) ? UInt64(id) - nextContainerID : UInt64(UInt32.max) - nextContainerID
                let length = min(remaining, room)
                guard length > 0 else { break }
                entries.append(IDMapEntry(containerID: UInt32(nextContainerID), hostID: UInt32(hostID), count: UInt32(length)))
                nextContainerID += length
                hostID += length
                remaining -= length
            }
        }
        guard !entries.isEmpty else { return nil }
        entries.append(IDMapEntry(containerID: id, hostID: id, count: 1))
        return entries.sorted { $0.containerID < $1.containerID }
    }

    /// The container id that `hostUID` appears as inside, nil when unmapped.
    public func containerUID(forHost hostUID: UInt32) -> UInt32? { Self.lookup(hostUID, in: uids) }
    public func containerGID(forHost hostGID: UInt32) -> UInt32? { Self.lookup(hostGID, in: gids) }

    /// Whether container gid `gid` is mapped (devpts' gid=5 option needs it).
    public func mapsContainerGID(_ gid: UInt32) -> Bool {
        gids.contains { UInt64(gid) >= UInt64($0.containerID) && UInt64(gid) < UInt64($0.containerID) + UInt64($0.count) }
    }

    static func lookup(_ hostID: UInt32, in entries: [IDMapEntry]) -> UInt32? {
        for entry in entries where UInt64(hostID) >= UInt64(entry.hostID) && UInt64(hostID) < UInt64(entry.hostID) + UInt64(entry.count) {
            return entry.containerID + (hostID - entry.hostID)
        }
        return nil
    }

    /// Whether writing the maps needs the setuid helpers: an unprivileged process may only map
    /// its own id, once.
    public func needsHelpers(hostUID: UInt32, hostGID: UInt32) -> Bool {
        !(uids.count == 1 && uids[0].hostID == hostUID && uids[0].count == 1
            && gids.count == 1 && gids[0].hostID == hostGID && gids[0].count == 1)
    }

    /// The map of an idmapped bind mount through which real root acts as `owner` (a uid or a
    /// gid): what root creates is `owner`'s on disk and `owner`'s files look root's, other ids
    /// are unchanged, and on-disk root (like `owner` itself, seen from inside) is unmapped, so
    /// nothing the container does there makes a file the host's root owns.
    public static func rootActsAs(_ owner: UInt32) -> [IDMapEntry] {
        idActsAs(0, owner: owner)
    }

    /// The same with container id `id` (a devcontainer's `remoteUser`) acting as `owner`:
    /// what `id` creates is `owner`'s on disk and `owner`'s files look `id`'s. On-disk root
    /// and `id`, and container root, are unmapped (root's creations there fail with
    /// EOVERFLOW rather than make the host root's files).
    public static func idActsAs(_ id: UInt32, owner: UInt32) -> [IDMapEntry] {
        // Identity everywhere except 0, `owner` (on disk) and `id` (in the container).
        var entries = [IDMapEntry(containerID: owner, hostID: id, count: 1)]
        var start: UInt64 = 1
        // Up to 4294967294: (uid_t)-1 is not an id.
        for end in (Set([UInt64(owner), UInt64(id)]).subtracting([0]).sorted() + [UInt64(UInt32.max)]) {
            if end > start { entries.append(IDMapEntry(containerID: UInt32(start), hostID: UInt32(start), count: UInt32(end - start))) }
            start = end + 1
        }
        return entries
    }

    /// The text written to `/proc/PID/uid_map` or `gid_map`.
    public static func procText(_ entries: [IDMapEntry]) -> String {
        entries.map { "\($0.containerID) \($0.hostID) \($0.count)\n" }.joined()
    }

    /// Arguments for `newuidmap PID ...` / `newgidmap PID ...`.
    public static func helperArguments(_ entries: [IDMapEntry]) -> [String] {
        entries.flatMap { ["\($0.containerID)", "\($0.hostID)", "\($0.count)"] }
    }
}

/// A subordinate id range from `/etc/subuid` or `/etc/subgid` (`owner:start:count`).
public struct SubordinateRange: Hashable, Codable, Sendable {
    public var owner: String
    public var start: UInt32
    public var count: UInt32

    public init(owner: String, start: UInt32, count: UInt32) {
        self.owner = owner
        self.start = start
        self.count = count
    }

    /// Parses the file's text; comments, blank and malformed lines are skipped (shadow's
    /// newuidmap ignores them too).
    public static func parse(_ text: String) -> [SubordinateRange] {
        text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            let trimmed = line.trimmingSpaces
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
            let fields = trimmed.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[0].isEmpty,
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0,
                  UInt64(start) + UInt64(count) <= UInt64(UInt32.max) else { return nil }
            return SubordinateRange(owner: String(fields[0]), start: start, count: count)
        }
    }

    /// The ranges that belong to a user, listed by name or by numeric uid.
    public static func ranges(in text: String, user: String, id: UInt32) -> [SubordinateRange] {
        parse(text).filter { $0.owner == user || $0.owner == String(id) }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice = slice.dropLast() }
        return slice
    }
}
