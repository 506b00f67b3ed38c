@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `devenv build` end to end, as root and as the unprivileged test user (rootless, its store
/// in its home): real containers run the steps. Root is needed to become the test user.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, and to act as the test user)"), .timeLimit(.minutes(20)))
struct BuildCommandTests {
    static let manifest = """
    [base]
    image = "busybox:it"

    [[step]]
    run = "echo a > /a"

    [[step]]
    env = { X = "1", P = "/opt/bin:$PATH" }

    [[step]]
    copy = ["payload.txt"]
    to = "/payload.txt"

    [[step]]
    run = "cat /a /payload.txt > /b"

    [tasks]
    show = "cat /b"
    """

    static func cached(_ steps: [[String: Any]]) -> [Bool] { steps.map { $0["cached"] as? Bool ?? false } }
    static func reasons(_ steps: [[String: Any]]) -> [String] { steps.map { $0["reason"] as? String ?? "" } }

    @Test(arguments: DevenvUser.allCases)
    func hitMissAndCascadeWithExplanations(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write("payload.txt", "v1\n")

        let first = try project.build()
        #expect(first.result.succeeded, "\(first.result.stderr)")
        #expect(Self.cached(first.steps) == [false, false, false, false])
        #expect(Self.reasons(first.steps).allSatisfy { $0 == "not built before" })

        // The build record is replaced by rename whenever it is written: a no-op build
        // (every warm `devenv run`) leaves the very same file.
        let projectID = try #require(FileManager.default.contentsOfDirectory(atPath: "\(project.store)/projects").first)
        let record = "\(project.store)/projects/\(projectID)/record.json"
        let inode = { () -> UInt64? in (try? FileManager.default.attributesOfItem(atPath: record)[.systemFileNumber] as? UInt64) ?? nil }
        let written = inode()
        let noop = try project.build()
        #expect(Self.cached(noop.steps) == [true, true, true, true])
        #expect(written != nil && inode() == written)

        try project.write("payload.txt", "v2\n")
        let changed = try project.build()
        #expect(Self.cached(changed.steps) == [true, true, false, false])
        #expect(Self.reasons(changed.steps)[2].hasPrefix("payload.txt changed ("))
        #expect(Self.reasons(changed.steps)[3] == "earlier step 3 was rebuilt")
        #expect(inode() != written)

        // The human form names the manifest line of each rebuilt step.
        try project.write("payload.txt", "v3\n")
        let explained = try project.devenv(["build", "--explain"])
        #expect(explained.stderr.contains("step 1/4 .devenv/devenv.toml:5: run echo a > /a: cached"))
        #expect(explained.stderr.contains("step 3/4 .devenv/devenv.toml:11: copy payload.txt -> /payload.txt: rebuilt (payload.txt changed"))

        let edited = Self.manifest.replacingOccurrences(of: "echo a > /a", with: "echo b > /a")
        try project.write(".devenv/devenv.toml", edited)
        let stepChanged = try project.build()
        #expect(Self.reasons(stepChanged.steps)[0] == "the step changed: 'run echo a > /a' -> 'run echo b > /a'")

        // What the steps made is really in the image.
        let shown = try project.devenv(["run", "show"])
        #expect(shown.stdout == "b\nv3\n", "\(shown.stderr)")
        let env = try project.devenv(["run", "--", "sh", "-c", "echo $X $P"])
        #expect(env.stdout.hasPrefix("1 /opt/bin:/usr/local/sbin"), "\(env.stderr)")
    }

    /// Copies resolve their destination inside the image: parents the image has keep their
    /// metadata (/tmp stays 1777), directories bring their contents, no `to` means the workdir.
    @Test(arguments: DevenvUser.allCases)
    func copyPlacesFilesLikeTheImageExpects(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: """
        [base]
        image = "busybox:it"

        [[step]]
        copy = ["p.txt"]
        to = "/tmp/x/p.txt"

        [[step]]
        copy = ["src/"]
        to = "/opt/src/"

        [[step]]
        workdir = "/srv"

        [[step]]
        copy = ["p.txt"]
        """, as: user)
        try project.write("p.txt", "p\n")
        try project.write("src/a.txt", "a\n")
        try project.write("src/sub/b.txt", "b\n")
        let listed = try project.devenv(["run", "--", "sh", "-c", "stat -c '%a %n' /tmp /tmp/x; find /opt/src /srv | sort"])
        #expect(listed.stdout == "1777 /tmp\n755 /tmp/x\n/opt/src\n/opt/src/a.txt\n/opt/src/sub\n/opt/src/sub/b.txt\n/srv\n/srv/p.txt\n", "\(listed.stderr)")
    }

    /// A cache mount outlives the step that filled it (a rebuilt step sees what the last run
    /// left there, the image does not), and a `user` step sets who later steps run as (the
    /// environment itself is the developer's: root, or the user's own uid rootless).
    @Test(arguments: DevenvUser.allCases)
    func cacheMountsAndUserSteps(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let manifest = { (round: Int) in """
            [base]
            image = "busybox:it"

            [[step]]
            run = "echo \(round) >> /cache/log; wc -l < /cache/log > /runs"
            cache = ["/cache"]

            [[step]]
            user = "1500"

            [[step]]
            run = "id -u > /tmp/uid"
            """ }
        let project = try ProjectFixture(manifest: manifest(1), as: user)
        let first = try project.devenv(["run", "--", "sh", "-c", "cat /runs /tmp/uid; id -u; ls /cache | wc -l"])
        #expect(first.stdout == "1\n1500\n\(project.runner.account?.uid ?? 0)\n0\n", "\(first.stderr)")
        try project.write(".devenv/devenv.toml", manifest(2))
        let second = try project.devenv(["run", "--", "cat", "/runs"])
        #expect(second.stdout == "2\n", "the cache kept the first run's line: \(second.stderr)")
    }

    @Test(arguments: DevenvUser.allCases)
    func frozenLockFailsWhenMissingOrStale(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write("payload.txt", "v1\n")
        let missing = try project.devenv(["build", "--frozen"])
        #expect(missing.status == 67)
        #expect(missing.stderr.contains("devenv lock"))

        let lock = try project.devenv(["lock"])
        #expect(lock.succeeded, "\(lock.stderr)")
        let lockText = try String(contentsOfFile: "\(project.root)/.devenv/devenv.lock", encoding: .utf8)
        #expect(lockText.contains("image = \"busybox:it\""))
        #expect(try project.devenv(["build", "--frozen"]).succeeded)

        // Moving the tag does not change a locked environment.
        let lockedDigest = lockText.components(separatedBy: "digest = \"")[1].prefix(71)
        let other = try Fixtures.busyboxRootfs(in: project.scratch, name: "moved")
        try project.write("extra.txt", "x")
        _ = try DevenvProcess.run("tar", ["-rf", other, "-C", project.root, "extra.txt"])
        #expect(try project.devenv(["image", "import", other, "--tag", "busybox:it"]).succeeded)
        #expect(try project.devenv(["build"]).succeeded)
        let after = try String(contentsOfFile: "\(project.root)/.devenv/devenv.lock", encoding: .utf8)
        #expect(after.contains(String(lockedDigest)))
        let extra = try project.devenv(["run", "--", "test", "-e", "/extra.txt"])
        #expect(extra.status == 1, "the locked base has no /extra.txt")

        try project.write(".devenv/devenv.toml", Self.manifest.replacingOccurrences(of: "busybox:it", with: "docker.io/library/busybox:it"))
        let stale = try project.devenv(["build", "--frozen"])
        #expect(stale.status == 67)
        #expect(stale.stderr.contains("stale"))
    }

    @Test(arguments: DevenvUser.allCases)
    func errorsHaveDistinctExitCodes(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n\n[[stpe]]\nrun = \"true\"\n", as: user)
        let invalid = try project.devenv(["build"])
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains(".devenv/devenv.toml:4:"))
        #expect(invalid.stderr.contains("did you mean 'step'?"))

        try project.write(".devenv/devenv.toml", "[base]\nimage = \"busybox:it\"\n\n[[step]]\nrun = \"exit 3\"\n")
        let failed = try project.devenv(["build"])
        #expect(failed.status == 68)
        #expect(failed.stderr.contains(".devenv/devenv.toml:5: build step 1 failed with exit status 3"))

        let scratch = try Scratch()
        let none = try project.runner.devenv(["build"], directory: scratch.path)
        #expect(none.status == 66)
        #expect(none.stderr.contains("devenv init"))
    }

    /// SIGKILL mid-build leaves nothing half-made; the next build resumes after the last
    /// completed step.
    @Test(arguments: DevenvUser.allCases)
    func interruptedBuildResumes(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let slow = Self.manifest.replacingOccurrences(of: "cat /a /payload.txt > /b", with: "touch /started; sleep 600")
        let project = try ProjectFixture(manifest: slow, as: user)
        try project.write("payload.txt", "v1\n")
        let process = try project.runner.start(["build"], directory: project.root, output: project.scratch.file("build.log"))
        let deadline = Date().addingTimeInterval(60)
        var entries: [String] = []
        while Date() < deadline {
            entries = (try? FileManager.default.contentsOfDirectory(atPath: "\(project.store)/buildcache")) ?? []
            if entries.count >= 3 { break }
            usleep(20_000)
        }
        #expect(entries.count == 3)
        usleep(300_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(project.store)/snapshots")
        #expect(!snapshots.contains { $0.hasPrefix(".tmp") })
        // No container survives its devenv.
        usleep(200_000)
        let sleepers = try DevenvProcess.run("pgrep", ["-f", "sleep 600"])
        #expect(sleepers.stdout.isEmpty, "a step process outlived devenv: \(sleepers.stdout)")

        try project.write(".devenv/devenv.toml", Self.manifest)
        let resumed = try project.build()
        #expect(resumed.result.succeeded, "\(resumed.result.stderr)")
        #expect(Self.cached(resumed.steps) == [true, true, true, false])
    }

    /// Two builds of one project serialise and agree; the store stays consistent.
    @Test(arguments: DevenvUser.allCases)
    func concurrentBuildsOfOneProject(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write("payload.txt", "v1\n")
        let results = try Self.concurrently([(["build", "--json"], project.root), (["build", "--json"], project.root)], in: project)
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map { $0.output + $0.errors })")
        let images = results.map { (try? JSONSerialization.jsonObject(with: Data($0.output.utf8)) as? [String: Any])?["digest"] as? String }
        #expect(images[0] != nil && images[0] == images[1], "both builds report the same image: \(results.map(\.output))")
        let check = try project.devenv(["check"])
        #expect(check.succeeded, "\(check.stdout)\(check.stderr)")
    }

    /// Two shells of one user on one store at once (issue 12): two `devenv run` of a project
    /// not built yet (both need its build) and a build of a second project on the same store
    /// all succeed, and the store stays consistent.
    @Test(arguments: DevenvUser.allCases)
    func concurrentRunsAndABuildShareOneStore(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write("payload.txt", "v1\n")
        let other = project.scratch.file("other")
        try FileManager.default.createDirectory(atPath: "\(other)/.devenv", withIntermediateDirectories: true)
        try Self.manifest.replacingOccurrences(of: "echo a > /a", with: "echo other > /a").write(toFile: "\(other)/.devenv/devenv.toml", atomically: false, encoding: .utf8)
        try "v2\n".write(toFile: "\(other)/payload.txt", atomically: false, encoding: .utf8)
        try project.runner.own(other)
        let results = try Self.concurrently([(["run", "show"], project.root), (["run", "show"], project.root), (["build"], other)], in: project)
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map { $0.output + $0.errors })")
        #expect(results[0].output == "a\nv1\n" && results[1].output == "a\nv1\n", "\(results.map { $0.output + $0.errors })")
        let check = try project.devenv(["check"])
        #expect(check.succeeded, "\(check.stdout)\(check.stderr)")
        #expect(try project.devenv(["run", "--", "cat", "/b"]).stdout == "a\nv1\n")
    }

    /// Runs the devenv command lines at the same time in the project; status and output of each.
    static func concurrently(_ commands: [(arguments: [String], directory: String)], in project: ProjectFixture) throws -> [(status: Int32, output: String, errors: String)] {
        let processes = try commands.enumerated().map { index, command in
            (try project.runner.start(command.arguments, directory: command.directory, output: project.scratch.file("concurrent-\(index).log")), index)
        }
        return processes.map { process, index in
            process.waitUntilExit()
            let log = project.scratch.file("concurrent-\(index).log")
            return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", (try? String(contentsOfFile: log + ".err", encoding: .utf8)) ?? "")
        }
    }
}
