import DevenvSystem
import Testing

/// The one passwd/group parser and the one user rule (runc's `GetExecUser` with Docker's
/// defaults), form by form.
@Suite struct UserSpecTests {
    static let passwd = AccountFile.passwd("""
        root:x:0:0:root:/root:/bin/bash
        # a comment:x:7:7::/:
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        app:x:1000:100:App:/home/app:/bin/sh
        2000:x:3000:3000::/home/numeric:/bin/sh
        short:x:1500:1500
        +nis::::::
        broken:x:notanumber:1::/:/bin/sh
        """)
    static let groups = AccountFile.group("root:x:0:\nusers:x:100:app\nstaff:x:50:app,other\ndocker:x:999:\n")

    func resolve(_ text: String, _ numericUser: UserSpec.NumericUser = .primaryGroup) -> UserSpec.Resolution {
        UserSpec(text).resolve(passwd: Self.passwd, groups: Self.groups, numericUser: numericUser)
    }

    func ids(_ text: String, _ numericUser: UserSpec.NumericUser = .primaryGroup) -> [UInt32]? {
        guard case let .resolved(user) = resolve(text, numericUser) else { return nil }
        return [user.uid, user.gid]
    }

    @Test func parsesEntriesAndSkipsWhatIsNotOne() {
        #expect(Self.passwd.map(\.name) == ["root", "daemon", "app", "2000", "short"])
        #expect(Self.passwd[2] == PasswdEntry(name: "app", uid: 1000, gid: 100, home: "/home/app", shell: "/bin/sh"))
        // Trailing fields may be missing, as runc reads them.
        #expect(Self.passwd[4] == PasswdEntry(name: "short", uid: 1500, gid: 1500, home: "", shell: ""))
        #expect(Self.groups[2] == GroupEntry(name: "staff", gid: 50, members: ["app", "other"]))
        #expect(AccountFile.passwd("root:x:0:0:root:/root:/bin/sh\r\n") == [PasswdEntry(name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/sh")])
        #expect(AccountFile.group("").isEmpty && AccountFile.passwd("garbage\n::::\n").isEmpty)
    }

    @Test func numericUserInPasswdGetsItsPrimaryGroup() throws {
        #expect(ids("1000") == [1000, 100])
        guard case let .resolved(user) = resolve("1000") else { Issue.record("not resolved"); return }
        #expect(user.account?.name == "app" && user.account?.home == "/home/app")
    }

    /// A RUN step as `USER 4242` used to run as 4242:4242; runc (and buildah) give 4242:0.
    @Test func numericUserMissingFromPasswdGetsGroupZero() {
        #expect(ids("4242") == [4242, 0])
        guard case let .resolved(user) = resolve("4242") else { Issue.record("not resolved"); return }
        #expect(user.account == nil)
    }

    /// A numeric user is always a uid, never the account named with those digits.
    @Test func numericUserIsAUIDNotAName() {
        #expect(ids("2000") == [2000, 0])
        #expect(ids("3000") == [3000, 3000])
    }

    @Test func namedUserGetsItsAccountsIDs() {
        #expect(ids("app") == [1000, 100])
        #expect(ids("root") == [0, 0])
        #expect(resolve("nobody") == .unknownUser("nobody"))
    }

    @Test func explicitGroupsWin() {
        #expect(ids("app:staff") == [1000, 50])
        #expect(ids("app:777") == [1000, 777])
        #expect(ids("1000:docker") == [1000, 999])
        #expect(ids("4242:4243") == [4242, 4243])
        #expect(resolve("app:nogroup") == .unknownGroup("nogroup"))
        // A numeric group is a gid even when /etc/group lacks it.
        #expect(ids("app:12345") == [1000, 12345])
    }

    @Test func missingUserIsRoot() {
        #expect(ids(":staff") == [0, 50])
        #expect(ids(":") == [0, 0])
        // `user:` names no group.
        #expect(ids("app:") == [1000, 100])
    }

    /// File owners (--chown, WORKDIR): a bare uid is also the gid, whatever passwd says.
    @Test func chownUsesTheUIDAsGID() {
        #expect(ids("1000", .sameAsUID) == [1000, 1000])
        #expect(ids("4242", .sameAsUID) == [4242, 4242])
        #expect(ids("app", .sameAsUID) == [1000, 100])
        #expect(ids("1000:staff", .sameAsUID) == [1000, 50])
        #expect(ids(":staff", .sameAsUID) == [0, 50])
    }
}
