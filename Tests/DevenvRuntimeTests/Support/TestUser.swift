import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The unprivileged user rootless tests run devenv as: `devenv-test` with a subordinate
/// range in /etc/subuid and /etc/subgid (what .ci/prepare-host sets up; created here too, idempotently).
struct TestUser {
    let name: String
    let uid: UInt32
    let gid: UInt32
    let home: String
    /// Host uid/gid of container root in this user's mapping (the first subordinate id, or
    /// the user's own without a range).
    let subordinateUID: UInt32
    let subordinateGID: UInt32

    /// `devenv-test`, with a subordinate range.
    static func ensure() throws -> TestUser {
        try ensure(name: Fixture.testUserName, withRanges: true)
    }

    /// `devenv-test-single`: no subordinate range, so devenv maps only the user's own id
    /// (container root is the user).
    static func ensureWithoutRanges() throws -> TestUser {
        try ensure(name: Fixture.testUserName + "-single", withRanges: false)
    }

    private static func ensure(name: String, withRanges: Bool) throws -> TestUser {
        try Fixture.requireRoot()
        let lock = try FileLockHolder(path: "/tmp/devenv-runtime-tests-user.lock")
        defer { lock.release() }
        if getpwnam(name) == nil {
            // No automatic subordinate ranges from login.defs: this fixture decides.
            try Fixture.shell("useradd --create-home --shell /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 \(name)")
        }
        for file in ["/etc/subuid", "/etc/subgid"] {
            if withRanges {
                try Fixture.shell("touch \(file); grep -q '^\(name):' \(file) || echo '\(name):200000:65536' >> \(file)")
            } else {
                try Fixture.shell("touch \(file); sed -i '/^\(name):/d' \(file)")
            }
        }
        guard let entry = getpwnam(name) else { throw FixtureError("user \(name) missing after useradd") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        let home = String(cString: entry.pointee.pw_dir)
        let subuid = withRanges ? try firstRange(in: "/etc/subuid", name: name) : uid
        let subgid = withRanges ? try firstRange(in: "/etc/subgid", name: name) : gid
        return TestUser(name: name, uid: uid, gid: gid, home: home, subordinateUID: subuid, subordinateGID: subgid)
    }

    static func firstRange(in file: String, name: String) throws -> UInt32 {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":")
            if fields.count == 3, fields[0] == name, let start = UInt32(fields[1]) { return start }
        }
        throw FixtureError("no range for \(name) in \(file)")
    }

    /// Runs the devenv binary as this user with a clean environment.
    func devenv(_ arguments: [String], directory: String) throws -> Command.Running {
        try Command.start("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "/usr/bin/env", "-i",
                                               "HOME=\(home)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "USER=\(name)",
                                               try Fixture.devenvBinary()] + arguments, directory: directory)
    }
}

/// A process-wide lock file (tests run in parallel within one process and across runs).
final class FileLockHolder {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FixtureError("open \(path) failed") }
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
    }

    func release() { close(descriptor) }
}
