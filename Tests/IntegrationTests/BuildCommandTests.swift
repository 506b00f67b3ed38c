@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `devenv build` end to end: real containers run the steps (root is needed for them here).
@Suite(.serialized, .enabled(if: Requirement.root())) struct BuildCommandTests {
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

    @Test func hitMissAndCascadeWithExplanations() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest)
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
    @Test func copyPlacesFilesLikeTheImageExpects() throws {
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
        """)
        try project.write("p.txt", "p\n")
        try project.write("src/a.txt", "a\n")
        try project.write("src/sub/b.txt", "b\n")
        let listed = try project.devenv(["run", "--", "sh", "-c", "stat -c '%a %n' /tmp /tmp/x; find /opt/src /srv | sort"])
        #expect(listed.stdout == "1777 /tmp\n755 /tmp/x\n/opt/src\n/opt/src/a.txt\n/opt/src/sub\n/opt/src/sub/b.txt\n/srv\n/srv/p.txt\n", "\(listed.stderr)")
    }

    @Test func frozenLockFailsWhenMissingOrStale() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest)
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
        #expect(try DevenvProcess.devenv(["image", "import", other, "--tag", "busybox:it"], store: project.store).succeeded)
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

    @Test func errorsHaveDistinctExitCodes() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n\n[[stpe]]\nrun = \"true\"\n")
        let invalid = try project.devenv(["build"])
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains(".devenv/devenv.toml:4:"))
        #expect(invalid.stderr.contains("did you mean 'step'?"))

        try project.write(".devenv/devenv.toml", "[base]\nimage = \"busybox:it\"\n\n[[step]]\nrun = \"exit 3\"\n")
        let failed = try project.devenv(["build"])
        #expect(failed.status == 68)
        #expect(failed.stderr.contains(".devenv/devenv.toml:5: build step 1 failed with exit status 3"))

        let scratch = try Scratch()
        let none = try DevenvProcess.devenv(["build"], store: project.store, directory: scratch.path)
        #expect(none.status == 66)
        #expect(none.stderr.contains("devenv init"))
    }

    /// SIGKILL mid-build leaves nothing half-made; the next build resumes after the last
    /// completed step.
    @Test func interruptedBuildResumes() throws {
        try Requirement.require(root: true)
        let slow = Self.manifest.replacingOccurrences(of: "cat /a /payload.txt > /b", with: "touch /started; sleep 600")
        let project = try ProjectFixture(manifest: slow)
        try project.write("payload.txt", "v1\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try DevenvProcess.binary)
        process.arguments = ["build", "--store", project.store]
        process.currentDirectoryURL = URL(fileURLWithPath: project.root)
        process.standardError = FileHandle.nullDevice
        try process.run()
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
    @Test func concurrentBuildsOfOneProject() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest)
        try project.write("payload.txt", "v1\n")
        let processes: [(Process, Pipe)] = try (0..<2).map { _ in
            let process = Process()
            let out = Pipe()
            process.executableURL = URL(fileURLWithPath: try DevenvProcess.binary)
            process.arguments = ["build", "--store", project.store]
            process.currentDirectoryURL = URL(fileURLWithPath: project.root)
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, out)
        }
        let outputs = processes.map { String(decoding: $0.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        for (process, _) in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.0.terminationStatus == 0 })
        #expect(outputs[0] == outputs[1], "both builds report the same image digest")
    }
}
