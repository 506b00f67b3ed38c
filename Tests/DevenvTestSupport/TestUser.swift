import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who a test runs devenv as: the one parameter (`@Test(arguments: DevenvUser.allCases)`)
/// that runs an end-to-end test both as root and rootless, as the unprivileged `devenv-test`
/// with its subordinate range, for which container root is a subordinate id.
public enum DevenvUser: String, CaseIterable, Sendable, CustomStringConvertible {
    case root
    case rootless

    public var description: String { rawValue }

    /// The account behind the case: nil for root, `devenv-test` (ensured) rootless.
    public func account() throws -> TestUser? {
        self == .root ? nil : try TestUser.ensure()
    }
}

/// An unprivileged account rootless tests run devenv as, created idempotently by
/// `.ci/ensure-user` (which .ci/prepare-host and scripts/quickstart.sh use too).
public struct TestUser: Sendable {
    public static let defaultName = "devenv-test"

    public let name: String
    public let uid: uid_t
    public let gid: gid_t
    public let home: String
    /// Host uid/gid of container root in this user's mapping: the first subordinate id, or
    /// the user's own without a range.
    public let subordinateUID: UInt32
    public let subordinateGID: UInt32

    /// `devenv-test`, with a subordinate range.
    public static func ensure() throws -> TestUser {
        try ensure(name: defaultName, withRanges: true)
    }

    /// `devenv-test-single`: no subordinate range (a host that gives the user none).
    public static func ensureWithoutRanges() throws -> TestUser {
        try ensure(name: defaultName + "-single", withRanges: false)
    }

    private static func ensure(name: String, withRanges: Bool) throws -> TestUser {
        guard geteuid() == 0 else { throw TestFailure("tests that act as the user \(name) run as root (they create it and switch to it)") }
        // Tests run in parallel within one process and in several processes at once.
        let lock = open("/tmp/devenv-tests-user.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw TestFailure("open /tmp/devenv-tests-user.lock: errno \(errno)") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        let script = packageRoot + "/.ci/ensure-user"
        let result = try Tools.execute("/bin/bash", [script] + (withRanges ? [] : ["--no-subids"]) + [name])
        guard result.status == 0 else { throw TestFailure("\(script) \(name) failed: \(result.stderr)") }
        guard let entry = getpwnam(name) else { throw TestFailure("user \(name) missing after \(script)") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        return TestUser(name: name, uid: uid, gid: gid, home: String(cString: entry.pointee.pw_dir),
                        subordinateUID: withRanges ? try firstRange(in: "/etc/subuid", name: name, id: uid) : uid,
                        subordinateGID: withRanges ? try firstRange(in: "/etc/subgid", name: name, id: uid) : gid)
    }

    static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    static func firstRange(in file: String, name: String, id: uid_t) throws -> UInt32 {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":")
            if fields.count == 3, fields[0] == name || fields[0] == "\(id)", let start = UInt32(fields[1]) { return start }
        }
        throw TestFailure("no range for \(name) in \(file)")
    }

    /// The program and arguments that run `executable ARGUMENTS` as this user with a clean
    /// environment: HOME (`home`, else the account's), PATH, USER and `environment`.
    public func command(_ executable: String, _ arguments: [String], home: String? = nil, environment: [String: String] = [:]) -> (String, [String]) {
        let variables = ["HOME=\(home ?? self.home)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "USER=\(name)"]
            + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return ("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "/usr/bin/env", "-i"] + variables + [executable] + arguments)
    }

    /// Gives `path` and everything below it to the user.
    public func own(_ path: String) throws {
        let result = try Tools.execute("/bin/chown", ["-R", "\(uid):\(gid)", path])
        guard result.status == 0 else { throw TestFailure("chown -R \(uid):\(gid) \(path): \(result.stderr)") }
    }
}
