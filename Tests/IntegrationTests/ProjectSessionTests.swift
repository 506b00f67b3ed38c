@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A developer's session end to end, as root and as the unprivileged test user: `devenv
/// shell` on a real terminal (a pty from util-linux's `script`), and `status`, `lock` and
/// `doctor` around a build.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("script"), "needs root (real containers, and to act as the test user) and util-linux's script"),
       .timeLimit(.minutes(20)))
struct ProjectSessionTests {
    static let manifest = "[base]\nimage = \"busybox:it\"\n\n[[step]]\nrun = \"echo built > /built\"\n"

    /// What the developer types reaches the shell in the environment; what it writes in the
    /// working tree is the developer's; its exit status is devenv's.
    @Test(arguments: DevenvUser.allCases)
    func shellOnATerminal(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["script"])
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let (program, arguments) = try project.runner.command(["shell"])
        let line = ([program] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let typed = "test -t 0 && echo tty=yes > /workspace/answer; cat /built >> /workspace/answer; exit 3\n"
        let result = try DevenvProcess.run("script", ["-q", "-e", "-c", line, "/dev/null"], stdin: Data(typed.utf8), directory: project.root, timeout: 120)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        let answer = project.scratch.file("project/answer")
        #expect((try? String(contentsOfFile: answer, encoding: .utf8)) == "tty=yes\nbuilt\n", "\(result.stdout)\(result.stderr)")
        var info = stat()
        #expect(stat(answer, &info) == 0 && info.st_uid == project.runner.account?.uid ?? 0, "the working tree's new file is the developer's")
    }

    @Test(arguments: DevenvUser.allCases)
    func statusLockAndDoctor(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        let before = try project.devenv(["status"])
        #expect(before.succeeded, "\(before.stderr)")
        #expect(before.stdout.contains("lock:     none yet") && before.stdout.contains("1 step(s) would run"), "\(before.stdout)")
        #expect(try project.devenv(["lock"]).succeeded)
        #expect(try project.devenv(["build"]).succeeded)
        let after = try project.devenv(["status"])
        #expect(after.stdout.contains("lock:     current") && after.stdout.contains(": up to date"), "\(after.stdout)\(after.stderr)")

        let doctor = try project.devenv(["doctor"])
        #expect(doctor.succeeded, "\(doctor.stdout)\(doctor.stderr)")
        let overlay = user == .root ? "ok    overlayfs: mounted upper" : "ok    overlayfs: mounted in a user namespace"
        #expect(doctor.stdout.contains(overlay), "\(doctor.stdout)")
        if let account = project.runner.account {
            #expect(doctor.stdout.contains("ok    subordinate ids: uids \(account.subordinateUID):65536"), "\(doctor.stdout)")
        }
    }
}
