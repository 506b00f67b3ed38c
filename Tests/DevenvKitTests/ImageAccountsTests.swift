import DevenvBuild
import Foundation
import Testing
@testable import DevenvKit
#if canImport(Glibc)
import Glibc
#endif

/// One parser and one rule for a Dockerfile's users, with the one difference Docker has
/// (checked against buildah 1.28 on an image whose passwd says `app:x:1000:100`): a RUN step
/// as `USER 1000` runs as 1000:100, as `USER 1500` (no account) as 1500:0; WORKDIR under
/// `USER 1000` and `COPY --chown=1000` give 1000:1000. The step user used to be 1500:1500.
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
        ("1000", 1000, 100), ("4242", 4242, 0), ("app", 1000, 100), ("app:staff", 1000, 50), ("1000:7", 1000, 7), (":staff", 0, 50), ("4242:staff", 4242, 50),
    ] as [(String, UInt32, UInt32)])
    func stepUserFollowsRunc(user: String, uid: UInt32, gid: UInt32) throws {
        let image = try Image(passwd: Self.passwd, group: Self.group)
        let step = try ImageAccounts.resolve(user, lowerDirs: [image.path])
        #expect([step.uid, step.gid] == [uid, gid])
    }

    @Test(arguments: [
        ("1000", 1000, 1000), ("4242", 4242, 4242), ("app", 1000, 100), ("app:staff", 1000, 50), ("1000:7", 1000, 7), (":staff", 0, 50),
    ] as [(String, UInt32, UInt32)])
    func fileOwnerFollowsBuildKit(user: String, uid: UInt32, gid: UInt32) throws {
        let image = try Image(passwd: Self.passwd, group: Self.group)
        #expect(try ImageOwner.resolve(user, in: LayerView(lowerDirs: [image.path])) == ImageOwner(uid: uid, gid: gid))
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
}
