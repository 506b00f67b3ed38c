import DevenvOCI
import DevenvSystem

/// The owner of files a step creates without running anything: a `--chown` value, or the
/// USER for WORKDIR. Resolved against the image's own /etc/passwd and /etc/group by
/// `UserSpec`'s file-owner rule (BuildKit's and buildah's): a bare uid is also the gid,
/// a name takes its primary group.
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
        try resolve(text, in: view, numericUser: .sameAsUID)
    }

    private static func resolve(_ text: String, in view: LayerView, numericUser: UserSpec.NumericUser) throws -> ImageOwner {
        let passwd = AccountFile.passwd(contents(view, "/etc/passwd"))
        let groups = AccountFile.group(contents(view, "/etc/group"))
        switch UserSpec(text).resolve(passwd: passwd, groups: groups, numericUser: numericUser) {
        case let .resolved(user): return ImageOwner(uid: user.uid, gid: user.gid)
        case let .unknownUser(name): throw Unknown(what: "user", name: name)
        case let .unknownGroup(name): throw Unknown(what: "group", name: name)
        }
    }

    private static func contents(_ view: LayerView, _ path: String) -> String {
        view.readFile(path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
