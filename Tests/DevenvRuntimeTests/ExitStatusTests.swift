@testable import DevenvRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ExitStatusTests {
    @Test(arguments: [(Int32(0), Int32(0)), (42, 42), (255, 255)])
    func exitCodesPassThrough(code: Int32, shell: Int32) {
        let status = ExitStatus(waitStatus: code << 8)
        #expect(status == .exited(code))
        #expect(status.shellCode == shell)
    }

    @Test func signalsBecome128PlusN() {
        #expect(ExitStatus(waitStatus: SIGKILL) == .signaled(SIGKILL))
        #expect(ExitStatus.signaled(SIGKILL).shellCode == 137)
        // A core dump sets bit 7; the signal is still the low 7 bits.
        #expect(ExitStatus(waitStatus: SIGSEGV | 0x80) == .signaled(SIGSEGV))
    }

    @Test func devenvsOwnFailuresHaveDistinctCodes() {
        #expect(RuntimeError.invalid("x").exitCode == 125)
        #expect(RuntimeError(.setup, "x").exitCode == 125)
        #expect(RuntimeError(.commandNotExecutable, "x").exitCode == 126)
        #expect(RuntimeError(.commandNotFound, "x").exitCode == 127)
    }

    @Test func reportsRoundTripAsLines() {
        let reports: [InitReport] = [.setup("mount overlay on /run/devenv/rootfs: invalid argument (EINVAL)"), .signal(9), .exec("exec \"x\": no such file or directory (ENOENT)")]
        #expect(InitReport.parse(reports.map(\.line).joined()) == reports)
        #expect(InitReport.setup("a\nb").line == "setup a\\nb\n")
        #expect(InitReport.parse("garbage\n") == [.setup("garbage")])
    }

    @Test func errnoIsReadBackFromTheMessage() {
        #expect(InitReport.errno(in: "mount overlay on /x: invalid argument (EINVAL)") == EINVAL)
        #expect(InitReport.errno(in: "pivot_root /x (y): operation not permitted (EPERM)") == EPERM)
        #expect(InitReport.errno(in: "no errno here") == nil)
        #expect(InitReport.describe("chdir /w", errno: ENOENT) == "chdir /w: no such file or directory (ENOENT)")
    }

    @Test func outcomePrefersReportsOverTheWaitStatus() throws {
        #expect(try ContainerRunner.outcome(waitStatus: 0, reports: []) == .exited(0))
        #expect(try ContainerRunner.outcome(waitStatus: 137 << 8, reports: [.signal(9)]) == .signaled(9))
        #expect(try ContainerRunner.outcome(waitStatus: SIGKILL, reports: []) == .signaled(SIGKILL))
        let setup = caught(RuntimeError.self) {
            try ContainerRunner.outcome(waitStatus: 127 << 8, reports: [.setup("mount overlay on /r: invalid argument (EINVAL)")])
        }
        #expect(setup?.kind == .setup)
        #expect(setup?.errno == EINVAL)
        #expect(setup?.hint?.contains("devenv doctor") == true)
        let missing = caught(RuntimeError.self) {
            try ContainerRunner.outcome(waitStatus: 127 << 8, reports: [.exec("exec \"nope\": no such file or directory (ENOENT)")])
        }
        #expect(missing?.kind == .commandNotFound)
        #expect(missing?.exitCode == 127)
        let denied = caught(RuntimeError.self) {
            try ContainerRunner.outcome(waitStatus: 126 << 8, reports: [.exec("exec \"/etc\": permission denied (EACCES)")])
        }
        #expect(denied?.exitCode == 126)
    }

    @Test func cloneFailureHintsNameTheSysctls() {
        #expect(SetupHint.forClone(errno: EPERM, userNamespace: true)?.contains("unprivileged_userns_clone") == true)
        #expect(SetupHint.forClone(errno: ENOSPC, userNamespace: true)?.contains("max_user_namespaces") == true)
        #expect(SetupHint.forSetup("mount overlay on /x: no such device (ENODEV)", errno: ENODEV)?.contains("modprobe overlay") == true)
    }
}
