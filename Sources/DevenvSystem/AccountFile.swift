/// One account of an /etc/passwd file: `name:password:uid:gid:gecos:home:shell`.
public struct PasswdEntry: Hashable, Sendable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    public var home: String
    public var shell: String

    public init(name: String, uid: UInt32, gid: UInt32, home: String = "", shell: String = "") {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
    }
}

/// One group of an /etc/group file: `name:password:gid:member,member`.
public struct GroupEntry: Hashable, Sendable {
    public var name: String
    public var gid: UInt32
    public var members: [String]

    public init(name: String, gid: UInt32, members: [String] = []) {
        self.name = name
        self.gid = gid
        self.members = members
    }
}

/// The one parser of /etc/passwd and /etc/group text (an image's, so any text). Pure.
/// A line is an entry when it is not a comment and has a name and numeric ids where the
/// format puts them (passwd: at least name, password, uid, gid; group: name, password,
/// gid); trailing fields may be missing, as runc reads them. Anything else (NIS `+`/`-`
/// lines, garbage) is skipped, never an error: the files belong to the image.
public enum AccountFile {
    public static func passwd(_ text: String) -> [PasswdEntry] {
        lines(text).compactMap { fields in
            guard fields.count >= 4, !fields[0].isEmpty, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { return nil }
            return PasswdEntry(name: String(fields[0]), uid: uid, gid: gid,
                               home: fields.count > 5 ? String(fields[5]) : "", shell: fields.count > 6 ? String(fields[6]) : "")
        }
    }

    public static func group(_ text: String) -> [GroupEntry] {
        lines(text).compactMap { fields in
            guard fields.count >= 3, !fields[0].isEmpty, let gid = UInt32(fields[2]) else { return nil }
            let members = fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : []
            return GroupEntry(name: String(fields[0]), gid: gid, members: members)
        }
    }

    private static func lines(_ text: String) -> [[Substring]] {
        // "\r\n" is one Character in Swift; runc's line scanner drops the "\r" too.
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            return line.split(separator: ":", omittingEmptySubsequences: false)
        }
    }
}
