/// A user as Dockerfiles and devcontainer.json name one (`USER`, `--chown`, `remoteUser`):
/// `user`, `uid`, `user:group`, `uid:gid`, `user:gid`, `uid:group` or `:group`, resolved
/// against an image's own account files (`AccountFile`). The user a process runs as follows
/// runc (libcontainer/user `GetExecUser`, with Docker's defaults of uid 0, gid 0, home `/`):
/// - a numeric user is always a uid; when passwd has it, its account gives the primary gid,
///   the name and home; when it has none the gid is 0 unless a group is given;
/// - any other user must be an account name in passwd;
/// - a numeric group is always a gid; any other group must be a name in /etc/group;
/// - no user (`:group`) is uid 0, looked up the same way.
/// The owner of files created without running anything (`COPY --chown`, WORKDIR under a
/// USER) differs only for a bare uid, as in BuildKit and buildah: its gid is the uid
/// (`USER 1000` + `WORKDIR` gives 1000:1000 even when passwd says 1000:100). Pure.
public struct UserSpec: Hashable, Sendable {
    /// Empty for `:group`.
    public var user: String
    /// nil when no group is given (`user`, `user:`).
    public var group: String?

    public init(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        user = String(parts[0])
        group = parts.count == 2 && !parts[1].isEmpty ? String(parts[1]) : nil
    }

    /// Where a bare numeric user's gid comes from.
    public enum NumericUser: Sendable {
        /// A process's user (runc): the primary group of the passwd account with that uid,
        /// else 0.
        case primaryGroup
        /// A file owner (BuildKit's and buildah's `--chown` and WORKDIR): the gid is the uid and
        /// passwd is not read (Docker documents this for --chown); no user (`:group`) is 0:0.
        case sameAsUID
    }

    public enum Resolution: Hashable, Sendable {
        case resolved(ResolvedUser)
        /// The user is a name passwd does not have.
        case unknownUser(String)
        /// The group is a name /etc/group does not have.
        case unknownGroup(String)
    }

    public func resolve(passwd: [PasswdEntry], groups: [GroupEntry], numericUser: NumericUser = .primaryGroup) -> Resolution {
        var resolved = ResolvedUser(uid: 0, gid: 0, account: nil)
        if let uid = user.isEmpty ? 0 : UInt32(user) {
            resolved.uid = uid
            if numericUser == .sameAsUID {
                resolved.gid = uid
            } else if let account = passwd.first(where: { $0.uid == uid }) {
                resolved.gid = account.gid
                resolved.account = account
            }
        } else {
            guard let account = passwd.first(where: { $0.name == user }) else { return .unknownUser(user) }
            resolved = ResolvedUser(uid: account.uid, gid: account.gid, account: account)
        }
        if let group {
            if let gid = UInt32(group) {
                resolved.gid = gid
            } else {
                guard let entry = groups.first(where: { $0.name == group }) else { return .unknownGroup(group) }
                resolved.gid = entry.gid
            }
        }
        return .resolved(resolved)
    }
}

/// Numeric ids for a `UserSpec`, with the passwd account they came from, if any.
public struct ResolvedUser: Hashable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var account: PasswdEntry?

    public init(uid: UInt32, gid: UInt32, account: PasswdEntry?) {
        self.uid = uid
        self.gid = gid
        self.account = account
    }
}
