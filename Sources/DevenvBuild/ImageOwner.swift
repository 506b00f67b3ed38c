import DevenvOCI

/// A `--chown` value or a USER, resolved to numeric ids against the image's own
/// /etc/passwd and /etc/group: `uid` (the gid is the uid), `name` (the account's primary
/// group), `uid:gid`, `name:group`, `:group` (user root).
public struct ImageOwner: Hashable, Sendable {
    public var uid: UInt32
    public var gid: UInt32

    public static let root = ImageOwner(uid: 0, gid: 0)

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    public struct Unknown: Error, CustomStringConvertible, Sendable {
        public let what: String
        public let name: String
        public var description: String { "\(what) \(Printable.quoted(name)) is not in the image's /etc/\(what == "user" ? "passwd" : "group")" }
    }

    public static func resolve(_ text: String, in view: LayerView) throws -> ImageOwner {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userText = parts[0]
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        if !userText.isEmpty {
            if let number = UInt32(userText) {
                uid = number
                gid = number
            } else {
                guard let account = records(view, "/etc/passwd", fields: 7).first(where: { $0[0] == userText }),
                      let id = UInt32(account[2]), let group = UInt32(account[3]) else {
                    throw Unknown(what: "user", name: userText)
                }
                uid = id
                gid = group
            }
        }
        if parts.count == 2, !parts[1].isEmpty {
            if let number = UInt32(parts[1]) {
                gid = number
            } else {
                guard let group = records(view, "/etc/group", fields: 4).first(where: { $0[0] == parts[1] }),
                      let id = UInt32(group[2]) else {
                    throw Unknown(what: "group", name: parts[1])
                }
                gid = id
            }
        }
        return ImageOwner(uid: uid, gid: gid)
    }

    /// Colon-separated records with at least `fields` fields; other lines are ignored.
    private static func records(_ view: LayerView, _ path: String, fields: Int) -> [[String]] {
        guard let bytes = view.readFile(path) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            return parts.count >= fields ? parts : nil
        }
    }
}
