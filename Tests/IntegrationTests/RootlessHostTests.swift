@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A host where an unprivileged user cannot build or start environments gets one clear error
/// naming the fix, before anything is written to the store, and `devenv doctor` says the
/// same (issue 12). Each case for real, end to end from the CLI as an unprivileged user: one
/// without subordinate ids; user namespaces denied although the sysctls allow them (a seccomp
/// filter around devenv, `userns-denied`, as a container's: the sysctls are host-wide, and
/// turning them off would break every other rootless test running at once); and a PATH
/// without newuidmap/newgidmap.
@Suite(.enabled(if: Requirement.root(), "needs root to create and act as a user without subordinate ids"), .timeLimit(.minutes(20)))
struct RootlessHostTests {
    static let fix = "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 devenv-test-single"
    static let busybox = "docker.io/library/busybox:1.36"

    /// Every command that opens the store checks first (`GlobalOptions.engine`), not only
    /// those that start containers: a rootless store's snapshots belong to subordinate ids,
    /// so without them it could be neither filled nor cleaned.
    static func storeCommands(rootfs: String) -> [[String]] {
        [["build"], ["run", "--", "true"], ["shell"], ["run", "--image", busybox, "--", "true"],
         ["lock"], ["status"], ["pull", busybox], ["image", "import", rootfs, "--tag", "localhost/r:1"],
         ["image", "ls"], ["gc"], ["check"]]
    }

    /// A project on `busybox` in the scratch, with a rootfs directory to import.
    static func project(in scratch: Scratch) throws -> (project: String, rootfs: String) {
        let project = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(project)/.devenv", withIntermediateDirectories: true)
        try "[base]\nimage = \"\(busybox)\"\n\n[[step]]\nrun = \"true\"\n".write(toFile: "\(project)/.devenv/devenv.toml", atomically: false, encoding: .utf8)
        let rootfs = scratch.file("rootfs")
        try FileManager.default.createDirectory(atPath: "\(rootfs)/etc", withIntermediateDirectories: true)
        return (project, rootfs)
    }

    /// Each store command exits 125 with exactly `message` and `hint` and leaves no store.
    static func expectRefused(_ run: ([String]) throws -> DevenvProcess.Result, rootfs: String, store: String, message: String, hint: String) throws {
        for command in storeCommands(rootfs: rootfs) {
            let result = try run(command)
            #expect(result.status == 125, "devenv \(command): \(result.stderr)")
            #expect(result.stderr == "devenv: error: rootless devenv cannot build or start environments on this host: \(message)\nhint: \(hint); `devenv doctor` checks the rest\n",
                    "devenv \(command)")
            #expect(access(store, F_OK) != 0, "devenv \(command) created the store \(store)")
        }
    }

    @Test func aUserWithoutSubordinateIDsIsToldTheFixBeforeTheStoreIsTouched() throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-no-subids")
        let runner = try DevenvRunner(account: try TestUser.ensureWithoutRanges(), scratch: scratch)
        let (project, rootfs) = try Self.project(in: scratch)
        try runner.own(scratch.path)

        try Self.expectRefused({ try runner.devenv($0, directory: project, timeout: 60) }, rootfs: rootfs, store: runner.store,
                               message: "user 'devenv-test-single' has no subordinate uids in /etc/subuid and no subordinate gids in /etc/subgid "
                                   + "(container root and the other users of an image map to them)",
                               hint: "as root: \(Self.fix) (a range no other user has)")

        let doctor = try runner.devenv(["doctor"], directory: project)
        #expect(doctor.status == 1, "\(doctor.stdout)\(doctor.stderr)")
        #expect(doctor.stdout.contains("FAIL  subordinate ids: user 'devenv-test-single' has no subordinate uids"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("      fix: as root: \(Self.fix) (a range no other user has)\n"), "\(doctor.stdout)")
    }

    /// Sysctls that allow user namespaces, and creating one still fails: EPERM as under a
    /// container's seccomp profile or an LSM policy, ENOSPC as with user.max_user_namespaces
    /// 0 in a parent namespace. devenv creates one to know (the rules alone passed this host
    /// and the store was made before the first clone failed).
    @Test(arguments: [EPERM, ENOSPC]) func userNamespacesDeniedDespiteTheSysctlsAreToldTheFixBeforeTheStoreIsTouched(_ code: Int32) throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-userns-denied")
        let denied = try Fixtures.usernsDenied(in: scratch)
        let runner = try DevenvRunner(.rootless, scratch: scratch)
        let (project, rootfs) = try Self.project(in: scratch)
        try runner.own(scratch.path)
        let name = code == EPERM ? "EPERM" : "ENOSPC"
        let devenv = { (arguments: [String]) throws -> DevenvProcess.Result in
            let (program, line) = try runner.command(arguments)
            return try DevenvProcess.run(denied, [name, program] + line, directory: project, timeout: 60)
        }
        let (reason, fix) = code == EPERM
            ? ("creating a user namespace fails with EPERM although the sysctls allow them: a seccomp filter (of a container devenv runs in?) or a security module denies them",
               "let this user create user namespaces: in a container, run it with a seccomp profile that permits clone and unshare with CLONE_NEWUSER; "
                   + "else find the AppArmor or SELinux policy that denies them")
            : ("creating a user namespace fails with ENOSPC: none are left (user.max_user_namespaces is 0 or used up, here or in a parent namespace)",
               "as root where it is 0 or reached (here, or on the host of a container devenv runs in): sysctl -w user.max_user_namespaces=15000")

        try Self.expectRefused(devenv, rootfs: rootfs, store: runner.store, message: reason, hint: fix)

        let doctor = try devenv(["doctor"])
        #expect(doctor.status == 1, "\(doctor.stdout)\(doctor.stderr)")
        #expect(doctor.stdout.contains("FAIL  user namespaces: \(reason)\n      fix: \(fix)\n"), "\(doctor.stdout)")
        // The same user without the filter: the host itself allows them.
        let healthy = try runner.devenv(["doctor"], directory: project)
        #expect(healthy.stdout.contains("ok    user namespaces: created one"), "\(healthy.stdout)")
    }

    /// devenv finds newuidmap/newgidmap on PATH, as a shell would (NixOS keeps its setuid
    /// ones in /run/wrappers/bin): without them there, the one error names the package. The
    /// same commands with a PATH of only the two helpers work, so devenv needs nothing else
    /// on PATH and their absence is the whole difference.
    @Test func aPathWithoutNewuidmapIsToldTheFixBeforeTheStoreIsTouched() throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-no-newuidmap")
        let runner = try DevenvRunner(.rootless, scratch: scratch)
        let (project, rootfs) = try Self.project(in: scratch)
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        let (empty, helpers) = (scratch.file("empty-bin"), scratch.file("helpers-bin"))
        for directory in [empty, helpers] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        for helper in ["newuidmap", "newgidmap"] {
            try FileManager.default.createSymbolicLink(atPath: "\(helpers)/\(helper)", withDestinationPath: try DevenvProcess.which(helper))
        }
        try runner.own(scratch.path)

        try Self.expectRefused({ try runner.devenv($0, environment: ["PATH": empty], directory: project, timeout: 60) }, rootfs: rootfs, store: runner.store,
                               message: "newuidmap/newgidmap are not installed (not on PATH; they map the subordinate ids)", hint: "as root: apt-get install uidmap")

        let doctor = try runner.devenv(["doctor"], environment: ["PATH": empty], directory: project)
        #expect(doctor.status == 1, "\(doctor.stdout)\(doctor.stderr)")
        #expect(doctor.stdout.contains("FAIL  newuidmap/newgidmap: newuidmap: newuidmap/newgidmap are not installed (not on PATH; they map the subordinate ids)\n"
                                       + "      fix: as root: apt-get install uidmap\n"), "\(doctor.stdout)")

        let imported = try runner.devenv(["image", "import", tarball, "--tag", "localhost/r:1"], environment: ["PATH": helpers], timeout: 120)
        #expect(imported.succeeded, "\(imported.stderr)")
        let run = try runner.devenv(["run", "--image", "localhost/r:1", "--", "id", "-u"], environment: ["PATH": helpers], timeout: 120)
        #expect(run.succeeded && run.stdout == "\(runner.account?.uid ?? 0)\n", "\(run.stdout)\(run.stderr)")
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
