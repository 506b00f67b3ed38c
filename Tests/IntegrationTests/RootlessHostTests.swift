@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A host where an unprivileged user cannot build or start environments gets one clear error
/// naming the fix, before anything is written to the store, and `devenv doctor` says the
/// same (issue 12). For real with a user that has no subordinate ids; hosts without
/// newuidmap or with user namespaces disabled are decided by the same rules
/// (`RootlessSupport`, unit-tested in DoctorRulesTests), as this host has both and the sysctls
/// are host-wide (turning them off would break every other rootless test running at once).
@Suite(.enabled(if: Requirement.root(), "needs root to create and act as a user without subordinate ids"), .timeLimit(.minutes(20)))
struct RootlessHostTests {
    static let fix = "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 devenv-test-single"

    @Test func aUserWithoutSubordinateIDsIsToldTheFixBeforeTheStoreIsTouched() throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-no-subids")
        let runner = try DevenvRunner(account: try TestUser.ensureWithoutRanges(), scratch: scratch)
        let project = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(project)/.devenv", withIntermediateDirectories: true)
        try "[base]\nimage = \"docker.io/library/busybox:1.36\"\n\n[[step]]\nrun = \"true\"\n".write(toFile: "\(project)/.devenv/devenv.toml", atomically: false, encoding: .utf8)

        let rootfs = scratch.file("rootfs")
        try FileManager.default.createDirectory(atPath: "\(rootfs)/etc", withIntermediateDirectories: true)
        try runner.own(scratch.path)

        // Every command that opens the store checks first (`GlobalOptions.engine`), not
        // only those that start containers: a rootless store's snapshots belong to
        // subordinate ids, so without them it could be neither filled nor cleaned.
        let commands = [["build"], ["run", "--", "true"], ["shell"], ["run", "--image", "docker.io/library/busybox:1.36", "--", "true"],
                        ["lock"], ["status"], ["pull", "docker.io/library/busybox:1.36"], ["image", "import", rootfs, "--tag", "localhost/r:1"],
                        ["image", "ls"], ["gc"], ["check"]]
        for command in commands {
            let result = try runner.devenv(command, directory: project, timeout: 60)
            #expect(result.status == 125, "devenv \(command): \(result.stderr)")
            #expect(result.stderr == """
                devenv: error: rootless devenv cannot build or start environments on this host: user 'devenv-test-single' has no \
                subordinate uids in /etc/subuid and no subordinate gids in /etc/subgid (container root and the other users of an image map to them)
                hint: as root: \(Self.fix) (a range no other user has); `devenv doctor` checks the rest

                """, "devenv \(command)")
            #expect(access(runner.store, F_OK) != 0, "devenv \(command) created the store \(runner.store)")
        }

        let doctor = try runner.devenv(["doctor"], directory: project)
        #expect(doctor.status == 1, "\(doctor.stdout)\(doctor.stderr)")
        #expect(doctor.stdout.contains("FAIL  subordinate ids: user 'devenv-test-single' has no subordinate uids"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("      fix: as root: \(Self.fix) (a range no other user has)\n"), "\(doctor.stdout)")
    }
}
