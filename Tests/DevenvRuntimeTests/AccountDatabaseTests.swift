@testable import DevenvRuntime
import Testing

@Suite struct AccountDatabaseTests {
    let user = ContainerUser(uid: 1000, gid: 1000, name: "alice", home: "/home/alice", shell: "/bin/sh")

    @Test func appendsTheUserWhenMissing() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false"
        #expect(AccountDatabase.passwd(existing: passwd, user: user) ==
                passwd + "\nalice:x:1000:1000:devenv user:/home/alice:/bin/sh\n")
        #expect(AccountDatabase.group(existing: "root:x:0:\n", user: user) == "root:x:0:\nalice:x:1000:\n")
    }

    @Test func keepsAnImageEntryForTheSameID() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n"
        #expect(AccountDatabase.passwd(existing: passwd, user: user) == nil)
        #expect(AccountDatabase.group(existing: "ubuntu:x:1000:\n", user: user) == nil)
        #expect(AccountDatabase.passwd(existing: passwd, user: .root) == nil)
    }

    @Test func avoidsDuplicateNames() {
        let passwd = "alice:x:2000:2000::/home/alice:/bin/sh\n"
        #expect(AccountDatabase.passwd(existing: passwd, user: user) == passwd + "u1000:x:1000:1000:devenv user:/home/alice:/bin/sh\n")
        #expect(AccountDatabase.group(existing: "alice:x:2000:\n", user: user) == "alice:x:2000:\ng1000:x:1000:\n")
    }

    @Test func createsFilesAnImageLacks() {
        #expect(AccountDatabase.passwd(existing: nil, user: user) == "alice:x:1000:1000:devenv user:/home/alice:/bin/sh\n")
        #expect(AccountDatabase.group(existing: "", user: user) == "alice:x:1000:\n")
        // Comment lines never count as entries.
        #expect(AccountDatabase.passwd(existing: "#x:x:1000:\n", user: user) != nil)
    }
}
