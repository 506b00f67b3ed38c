import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Who runs devenv on the host: ids, login name and subordinate ranges.
public struct HostIdentity: Hashable, Codable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var name: String
    public var subordinateUIDs: [SubordinateRange]
    public var subordinateGIDs: [SubordinateRange]
    /// Whether newuidmap and newgidmap are installed, on PATH (needed to use the ranges).
    public var hasMappingHelpers: Bool

    public init(uid: UInt32, gid: UInt32, name: String, subordinateUIDs: [SubordinateRange] = [], subordinateGIDs: [SubordinateRange] = [],
                hasMappingHelpers: Bool = true) {
        self.uid = uid
        self.gid = gid
        self.name = name
        self.subordinateUIDs = subordinateUIDs
        self.subordinateGIDs = subordinateGIDs
        self.hasMappingHelpers = hasMappingHelpers
    }

    public var isRoot: Bool { uid == 0 }

    /// The calling process's identity, with ranges from /etc/subuid and /etc/subgid.
    public static func current(subuidFile: String = "/etc/subuid", subgidFile: String = "/etc/subgid") -> HostIdentity {
        let uid = geteuid(), gid = getegid()
        var name = "user"
        if let entry = getpwuid(uid), let pointer = entry.pointee.pw_name { name = String(cString: pointer) }
        let subuids = (try? String(contentsOfFile: subuidFile, encoding: .utf8)).map { SubordinateRange.ranges(in: $0, user: name, id: uid) } ?? []
        let subgids = (try? String(contentsOfFile: subgidFile, encoding: .utf8)).map { SubordinateRange.ranges(in: $0, user: name, id: uid) } ?? []
        let helpers = Subprocess.find("newuidmap") != nil && Subprocess.find("newgidmap") != nil
        return HostIdentity(uid: uid, gid: gid, name: name, subordinateUIDs: subuids, subordinateGIDs: subgids, hasMappingHelpers: helpers)
    }

    /// devenv's one fixed mapping for this user (nil for root: no user namespace). Without
    /// ranges or without the helpers to write them, a single-id mapping (container root is
    /// the user).
    public var idMapping: IDMapping? {
        guard !isRoot else { return nil }
        guard hasMappingHelpers else { return .single(uid: uid, gid: gid) }
        return IDMapping.keepID(uid: uid, gid: gid, subordinateUIDs: subordinateUIDs, subordinateGIDs: subordinateGIDs)
    }
}
