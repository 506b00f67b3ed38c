import DevenvBuild
import Foundation
import Testing
@testable import DevenvKit
#if canImport(Glibc)
import Glibc
#endif

/// A Dockerfile's USER means one user: the ids a RUN step runs as (`ImageAccounts`) and the
/// owner of what WORKDIR creates (`ImageOwner.resolveUser`) come from the same rule. They
/// used to differ for `USER 1000`: the step got the passwd group, WORKDIR got gid 1000.
@Suite struct ImageAccountsTests {
    final class Image {
        let path: String

        init(passwd: String, group: String) throws {
            var template = Array("/tmp/devenv-image-accounts-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
            path = String(cString: made)
            try FileManager.default.createDirectory(atPath: path + "/etc", withIntermediateDirectories: true)
            try passwd.write(toFile: path + "/etc/passwd", atomically: false, encoding: .utf8)
            try group.write(toFile: path + "/etc/group", atomically: false, encoding: .utf8)
        }

        deinit { _ = try? FileManager.default.removeItem(atPath: path) }
    }

    static let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:100:App:/home/app:/bin/sh\n"
    static let group = "root:x:0:\nusers:x:100:\nstaff:x:50:\n"

    @Test(arguments: [
        ("1000", 1000, 100), ("4242", 4242, 0), ("app", 1000, 100), ("app:staff", 1000, 50), ("1000:7", 1000, 7), (":staff", 0, 50),
    ] as [(String, UInt32, UInt32)])
    func stepUserAndWorkdirOwnerAgree(user: String, uid: UInt32, gid: UInt32) throws {
        let image = try Image(passwd: Self.passwd, group: Self.group)
        let step = try ImageAccounts.resolve(user, lowerDirs: [image.path])
        let owner = try ImageOwner.resolveUser(user, in: LayerView(lowerDirs: [image.path]))
        #expect([step.uid, step.gid] == [uid, gid])
        #expect(owner == ImageOwner(uid: uid, gid: gid))
    }

    @Test func theStepUserCarriesTheAccountsNameAndHome() throws {
        let image = try Image(passwd: Self.passwd, group: Self.group)
        let app = try ImageAccounts.resolve("1000", lowerDirs: [image.path])
        #expect(app.name == "app" && app.home == "/home/app")
        let unknown = try ImageAccounts.resolve("4242", lowerDirs: [image.path])
        #expect(unknown.name == "4242" && unknown.home == "/")
        #expect(throws: KitError.self) { try ImageAccounts.resolve("nobody", lowerDirs: [image.path]) }
        #expect(throws: KitError.self) { try ImageAccounts.resolve("app:nogroup", lowerDirs: [image.path]) }
    }

    /// --chown keeps Docker's documented rule: a bare uid is also the gid.
    @Test func chownOfABareUIDUsesItAsTheGID() throws {
        let image = try Image(passwd: Self.passwd, group: Self.group)
        #expect(try ImageOwner.resolve("1000", in: LayerView(lowerDirs: [image.path])) == ImageOwner(uid: 1000, gid: 1000))
        #expect(try ImageOwner.resolve("app", in: LayerView(lowerDirs: [image.path])) == ImageOwner(uid: 1000, gid: 100))
    }
}
