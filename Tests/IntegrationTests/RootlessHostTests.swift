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

    /// An image whose files belong to ids beyond the user's subordinate range: as root it
    /// runs with those owners; rootless it cannot be unpacked (no namespace maps the ids), and
    /// the error names the owner, the ids there are and the host fix, and leaves no snapshot.
    @Test(arguments: DevenvUser.allCases) func idsBeyondTheSubordinateRangeNameTheFix(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-wide-ids")
        let runner = try DevenvRunner(user, scratch: scratch)
        let root = try Fixtures.busyboxRoot(in: scratch)
        try "far\n".write(toFile: "\(root)/far", atomically: false, encoding: .utf8)
        let tarball = scratch.file("wide.tar")
        let made = try DevenvProcess.run("/bin/sh", ["-c", "tar --sort=name --numeric-owner --owner=0 --group=0 -C '\(root)' -cf '\(tarball)' --exclude=./far . "
                                                     + "&& tar --numeric-owner --owner=100000 --group=100001 -C '\(root)' -rf '\(tarball)' ./far"])
        #expect(made.succeeded, "\(made.stderr)")
        try runner.own(scratch.path)
        let imported = try runner.devenv(["image", "import", tarball, "--tag", "localhost/wide:1"])
        #expect(imported.succeeded, "\(user): \(imported.stderr)")

        let run = try runner.devenv(["run", "--image", "localhost/wide:1", "--", "stat", "-c", "%u:%g", "/far"], timeout: 120)
        switch user {
        case .root:
            #expect(run.succeeded && run.stdout == "100000:100001\n", "\(run.stdout)\(run.stderr)")
        case .rootless:
            #expect(run.status == 125, "\(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("entry './far': owner 100000:100001 is outside the ids this user namespace maps (65537 uids, 65537 gids"), "\(run.stderr)")
            #expect(run.stderr.contains("subordinate range of at least 100001 ids in /etc/subuid and /etc/subgid"), "\(run.stderr)")
            let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: "\(runner.store)/snapshots")) ?? []
            #expect(snapshots.filter { !$0.hasPrefix(".") }.isEmpty, "a half-unpacked snapshot is visible: \(snapshots)")
        }
    }
}
