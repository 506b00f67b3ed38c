@testable import DevenvRuntime
import DevenvSystem
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Host paths derived from process state fail closed (issue 11, item 1): an unresolvable
/// current directory once became "" and then `/`, mounting the host's root at /workspace.
struct HostPathTests {
    @Test func emptyPathsAreErrorsNotTheRoot() throws {
        #expect(throws: SystemError.self) { try HostPath.absolute("", what: "--mount-dir") }
        #expect(try HostPath.absolute("/a/b") == "/a/b")
        #expect(try HostPath.absolute("b").hasSuffix("/b"))
        #expect(try HostPath.absolute("b").hasPrefix("/"))
    }

    @Test func homeMustBeAbsolute() throws {
        #expect(try HostPath.home(environment: ["HOME": "/home/x"], uid: 4_000_000_000) == "/home/x")
        // An empty or relative HOME falls back to the account database, and without an entry fails.
        #expect(try HostPath.home(environment: ["HOME": ""], uid: 0) == String(cString: getpwuid(0).pointee.pw_dir))
        #expect(throws: SystemError.self) { try HostPath.home(environment: ["HOME": ""], uid: 4_000_000_000) }
        #expect(throws: SystemError.self) { try HostPath.home(environment: ["HOME": "relative"], uid: 4_000_000_000) }
    }
}

/// `devenv run` from directories deeper than Foundation's buffer (2 KiB) and than the
/// kernel's path limit (5 KiB): the right directory is mounted, or devenv refuses clearly;
/// never the host's root. The directories are made and entered one relative step at a time.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct DeepWorkingDirectoryTests {
    /// A script that builds `depth` levels of 100-byte names under `base`, leaves a marker at
    /// the bottom and runs devenv there (`cd -P`: a logical cd would need the whole path).
    func script(depth: Int) -> String {
        let name = String(repeating: "d", count: 100)
        return "cd \"$0\" && for i in $(seq \(depth)); do mkdir -p \(name) && cd -P \(name) || exit 99; done; touch marker; exec \"$@\""
    }

    func runDeep(base: String, depth: Int, asUser user: TestUser? = nil) throws -> Command.Result {
        let rootfs = try Fixture.busyboxRootfs(owner: user?.subordinateUID ?? 0)
        let devenv = [try Fixture.devenvBinary(), "run", "--rootfs", rootfs, "--no-tty", "--", "ls", "/workspace"]
        let shell = ["/bin/sh", "-c", script(depth: depth), base] + devenv
        if let user {
            return try Command.run("/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "/usr/bin/env", "-i",
                                                        "HOME=\(user.home)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + shell)
        }
        return try Command.run(shell[0], Array(shell.dropFirst()))
    }

    @Test func aTwoKilobyteDirectoryIsMountedItself() throws {
        try Fixture.requireRoot()
        let base = try Fixture.temporaryDirectory()
        defer { Fixture.remove(base) }
        let result = try runDeep(base: base, depth: 20)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "marker\n")
    }

    @Test func aDirectoryBeyondTheKernelsPathLimitIsRefused() throws {
        try Fixture.requireRoot()
        let base = try Fixture.temporaryDirectory()
        defer { Fixture.remove(base) }
        let result = try runDeep(base: base, depth: 50)
        #expect(result.status == 125, "\(result.stdout)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("bytes long, over the kernel's limit of 4095"), "\(result.stderr)")
    }

    @Test func rootlessFromATwoKilobyteDirectory() throws {
        try Fixture.requireRoot()
        let user = try TestUser.ensure()
        let base = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(base) }
        let result = try runDeep(base: base, depth: 20, asUser: user)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "marker\n")
    }
}
