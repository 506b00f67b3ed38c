@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The front end answers a project's `run` and no-op `build` from the warm record devenv-core
/// left, and never once anything it depends on changed: a copied file, the manifest, the
/// lock (a new base), a flag, a project appearing nearer the current directory. As root
/// and as the unprivileged test user.
///
/// To see which road answered, a test marks the records in the store (an extra variable in
/// the recorded session, a different line for a build): the mark shows only when the front
/// end used the record, and a full start writes a fresh, unmarked one.
@Suite(.serialized, .enabled(if: Requirement.root())) struct WarmStartTests {
    static let manifest = """
    [base]
    image = "busybox:it"

    [[step]]
    run = "echo a > /a"

    [[step]]
    copy = ["payload.txt"]
    to = "/payload.txt"

    [tasks]
    show = "cat /payload.txt"
    """

    static let timeout: TimeInterval = 120

    struct Setup {
        let project: ProjectFixture
        let runner: DevenvRunner
        /// For every run (a HOME of the test's).
        var environment: [String: String] = [:]

        func devenv(_ arguments: [String], in subdirectory: String = "") throws -> DevenvProcess.Result {
            let directory = subdirectory.isEmpty ? project.root : "\(project.root)/\(subdirectory)"
            return try runner.devenv(arguments, environment: environment, directory: directory, timeout: WarmStartTests.timeout)
        }

        /// Writes a project file as its owner would (content changes keep the file's owner).
        func write(_ relative: String, _ contents: String) throws {
            try project.write(relative, contents)
            try runner.own(project.root)
        }

        /// Runs `arguments` until a record is written: inputs changed less than a second
        /// before a start are not trusted (coarse timestamps), so wait that out first.
        func record(_ arguments: [String], in subdirectory: String = "") throws -> DevenvProcess.Result {
            Thread.sleep(forTimeInterval: 1.2)
            return try devenv(arguments, in: subdirectory)
        }

        var recordFiles: [String] {
            let directory = "\(project.store)/warm"
            return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { "\(directory)/\($0)" }
        }

        /// Marks every record: sessions get WARM_MARK=1, builds print "marked".
        func markRecords() throws {
            let files = recordFiles
            #expect(!files.isEmpty, "no warm record was written")
            for file in files {
                var record = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
                var outcome = try #require(record["outcome"] as? [String: Any])
                if var session = outcome["session"] as? [String: Any] {
                    var spec = try #require(session["spec"] as? [String: Any])
                    var process = try #require(spec["process"] as? [String: Any])
                    process["environment"] = ((process["environment"] as? [String]) ?? []) + ["WARM_MARK=1"]
                    spec["process"] = process
                    session["spec"] = spec
                    outcome["session"] = session
                } else if outcome["build"] != nil {
                    outcome["build"] = ["output": "marked\n"]
                }
                record["outcome"] = outcome
                // In place, so the file keeps its owner.
                try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: file))
            }
        }
    }

    func setup(_ user: DevenvUser) throws -> Setup? {
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write("payload.txt", "v1\n")
        try project.runner.own(project.scratch.path)
        return Setup(project: project, runner: project.runner)
    }

    static let showMark = ["run", "--", "sh", "-c", "echo ${WARM_MARK:-full} $(cat /payload.txt)"]

    @Test(arguments: DevenvUser.allCases) func aChangedCopiedFileNeverStartsTheOldImage(_ user: DevenvUser) throws {
        guard let setup = try setup(user) else { return }
        #expect(try setup.devenv(Self.showMark).stdout == "full v1\n")
        #expect(try setup.record(Self.showMark).stdout == "full v1\n")
        try setup.markRecords()
        let warm = try setup.devenv(Self.showMark)
        #expect(warm.stdout == "1 v1\n", "the front end did not answer from the record: \(warm.stderr)")

        // Same size, same second: only the content and the stat differ.
        try setup.write("payload.txt", "v2\n")
        let changed = try setup.devenv(Self.showMark)
        #expect(changed.stdout == "full v2\n", "\(changed.stderr)")
        // And once recorded again, the new record serves the new image.
        #expect(try setup.record(Self.showMark).stdout == "full v2\n")
        try setup.markRecords()
        #expect(try setup.devenv(Self.showMark).stdout == "1 v2\n")
    }

    /// The record vouches for the snapshots it saw complete by their markers' and directories'
    /// lstat: one whose marker is gone (an interrupted gc or unpack) or was made again is
    /// not used, and the full CLI unpacks it again.
    @Test(arguments: DevenvUser.allCases) func aSnapshotThatChangedTakesTheFullRoad(_ user: DevenvUser) throws {
        guard let setup = try setup(user) else { return }
        #expect(try setup.devenv(Self.showMark).stdout == "full v1\n")
        #expect(try setup.record(Self.showMark).stdout == "full v1\n")
        try setup.markRecords()
        #expect(try setup.devenv(Self.showMark).stdout == "1 v1\n")

        let snapshots = "\(setup.project.store)/snapshots"
        let markers = try FileManager.default.contentsOfDirectory(atPath: snapshots).filter { $0.hasSuffix(".complete") }.sorted()
        let marker = "\(snapshots)/\(try #require(markers.first))"
        let saved = try Data(contentsOf: URL(fileURLWithPath: marker))
        #expect(unlink(marker) == 0)
        let missing = try setup.devenv(Self.showMark)
        #expect(missing.stdout == "full v1\n", "a snapshot without its marker was used: \(missing.stderr)")
        #expect(access(marker, F_OK) == 0, "the full CLI did not unpack the snapshot again")

        // The same bytes under a new inode: the record cannot tell them from a new unpack.
        _ = try setup.record(Self.showMark)
        try setup.markRecords()
        #expect(try setup.devenv(Self.showMark).stdout == "1 v1\n")
        let copy = marker + ".new"
        try saved.write(to: URL(fileURLWithPath: copy))
        if user == .rootless { _ = try DevenvProcess.run("/bin/chown", ["--reference=\(snapshots)", copy]) }
        #expect(rename(copy, marker) == 0)
        #expect(try setup.devenv(Self.showMark).stdout == "full v1\n")
    }

    @Test(arguments: DevenvUser.allCases) func aChangedManifestOrFlagTakesTheFullRoad(_ user: DevenvUser) throws {
        guard let setup = try setup(user) else { return }
        _ = try setup.devenv(Self.showMark)
        _ = try setup.record(Self.showMark)
        _ = try setup.devenv(["run", "show"])
        try setup.markRecords()
        #expect(try setup.devenv(Self.showMark).stdout == "1 v1\n")

        // A flag is another invocation, with its own record.
        let flagged = try setup.devenv(["run", "-e", "WARM_MARK=flag", "--", "sh", "-c", "echo $WARM_MARK"])
        #expect(flagged.stdout == "flag\n", "\(flagged.stderr)")

        // The manifest: a task edited, a step added.
        let edited = Self.manifest.replacingOccurrences(of: "show = \"cat /payload.txt\"", with: "show = \"cat /a /payload.txt\"")
            + "\n\n[[step]]\nrun = \"echo c > /c\"\n"
        try setup.write(".devenv/devenv.toml", edited)
        let task = try setup.devenv(["run", "show"])
        #expect(task.stdout == "a\nv1\n", "\(task.stderr)")
        let stepped = try setup.devenv(["run", "--", "sh", "-c", "echo ${WARM_MARK:-full} $(cat /c)"])
        #expect(stepped.stdout == "full c\n", "\(stepped.stderr)")
        #expect(try setup.devenv(Self.showMark).stdout == "full v1\n")
    }

    /// The lock pins the base: retagging the base changes nothing, `devenv lock` does.
    @Test(arguments: DevenvUser.allCases) func aNewBaseThroughTheLockTakesTheFullRoad(_ user: DevenvUser) throws {
        guard let setup = try setup(user) else { return }
        let other = try Fixtures.busyboxRoot(in: setup.project.scratch, name: "other")
        try "other\n".write(toFile: "\(other)/etc/flavour", atomically: false, encoding: .utf8)
        let tarball = setup.project.scratch.file("other.tar")
        #expect(try DevenvProcess.run("tar", ["--owner=0", "--group=0", "--numeric-owner", "-C", other, "-cf", tarball, "."]).succeeded)
        try setup.runner.own(setup.project.scratch.path)
        let flavour = ["run", "--", "sh", "-c", "echo ${WARM_MARK:-full} $(cat /etc/flavour 2>/dev/null || echo plain)"]
        _ = try setup.devenv(flavour)
        #expect(try setup.record(flavour).stdout == "full plain\n")
        #expect(try setup.devenv(["image", "import", tarball, "--tag", "busybox:it"]).succeeded)
        try setup.markRecords()
        #expect(try setup.devenv(flavour).stdout == "1 plain\n")

        let locked = try setup.devenv(["lock"])
        #expect(locked.succeeded, "\(locked.stderr)")
        let rebased = try setup.devenv(flavour)
        #expect(rebased.stdout == "full other\n", "\(rebased.stderr)")
    }

    /// A project made in a subdirectory is the project from there on.
    @Test(arguments: DevenvUser.allCases) func aNearerProjectTakesTheFullRoad(_ user: DevenvUser) throws {
        guard let setup = try setup(user) else { return }
        try setup.write("sub/keep", "")
        _ = try setup.devenv(Self.showMark, in: "sub")
        _ = try setup.record(Self.showMark, in: "sub")
        try setup.markRecords()
        #expect(try setup.devenv(Self.showMark, in: "sub").stdout == "1 v1\n")

        try setup.write("sub/.devenv/devenv.toml", "[base]\nimage = \"busybox:it\"\n\n[[step]]\nrun = \"echo inner > /payload.txt\"\n")
        let inner = try setup.devenv(Self.showMark, in: "sub")
        #expect(inner.stdout == "full inner\n", "\(inner.stderr)")
    }

    /// A session that warns (dotfiles this host lacks) is recorded too: the front end prints
    /// the same warnings on the same stream and starts the same container. A missing dotfile
    /// appearing, plainly or as the target of a dangling symlink, is a change: the next start
    /// binds it and stops warning.
    @Test(arguments: DevenvUser.allCases) func aWarningIsReplayedUntilItsCauseGoesAway(_ user: DevenvUser) throws {
        let project = try ProjectFixture(manifest: Self.manifest + "\n[shell]\ndotfiles = [\"~/.missingrc\", \"~/.linkedrc\"]\n", as: user)
        try project.write("payload.txt", "v1\n")
        let home = project.runner.home ?? project.scratch.file("root-home")
        try FileManager.default.createDirectory(atPath: "\(home)/dots", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(home)/.linkedrc", withDestinationPath: "dots/linkedrc")
        try project.runner.own(project.scratch.path)
        let setup = Setup(project: project, runner: project.runner, environment: ["HOME": home])
        let probe = ["run", "--", "sh", "-c", "echo ${WARM_MARK:-full} $(cat ~/.missingrc ~/.linkedrc 2>/dev/null)"]
        let missing = ".devenv/devenv.toml:14:13: warning: [shell] dotfiles: '~/.missingrc' does not exist on this host; it is not bound\n"
        let linked = ".devenv/devenv.toml:14:29: warning: [shell] dotfiles: '~/.linkedrc' does not exist on this host; it is not bound\n"

        _ = try setup.devenv(probe)
        let full = try setup.record(probe)
        #expect(full.stdout == "full\n" && full.stderr.hasSuffix(missing + linked), "\(full.stdout)\(full.stderr)")
        try setup.markRecords()
        let warm = try setup.devenv(probe)
        #expect(warm.stdout == "1\n", "the front end did not answer from the record: \(warm.stderr)")
        #expect(warm.stderr == full.stderr)

        // The symlink's target appears: bound from the next start on.
        try writeHomeFile("\(home)/dots/linkedrc", "l\n", runner: project.runner)
        let bound = try setup.devenv(probe)
        #expect(bound.stdout == "full l\n" && bound.stderr.hasSuffix(missing) && !bound.stderr.contains("linkedrc"), "\(bound.stdout)\(bound.stderr)")
        let again = try setup.record(probe)
        try setup.markRecords()
        let warmAgain = try setup.devenv(probe)
        #expect(warmAgain.stdout == "1 l\n" && warmAgain.stderr == again.stderr, "\(warmAgain.stdout)\(warmAgain.stderr)")

        // The missing file appears: bound, and nothing left to warn about.
        try writeHomeFile("\(home)/.missingrc", "m\n", runner: project.runner)
        let complete = try setup.devenv(probe)
        #expect(complete.stdout == "full m l\n" && !complete.stderr.contains("warning"), "\(complete.stdout)\(complete.stderr)")
    }

    /// A session whose task needs a service is answered by the front end only while the
    /// service runs the definition the full CLI found and is ready; the replayed session holds
    /// the service as the full CLI's does, so one that another session started outlives
    /// neither of them, and one that is `up` stays.
    @Test(arguments: DevenvUser.allCases) func aSessionNeedingAServiceIsAnsweredOnlyWhileItRunsAsRecorded(_ user: DevenvUser) throws {
        let port = try ServicesTests.freePort()
        let project = try ProjectFixture(manifest: Self.manifest + """

            fetch = { run = "echo ${WARM_MARK:-full} $(wget -q -O - http://127.0.0.1:\(port)/)", services = ["web"] }
            hold = { run = "touch /workspace/held; while [ ! -e /workspace/release ]; do sleep 0.1; done", services = ["web"] }

            [services.web]
            command = "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:\(port) -h /tmp/www"
            ports = [\(port)]

            """, as: user)
        try project.write("payload.txt", "v1\n")
        try project.runner.own(project.scratch.path)
        let setup = Setup(project: project, runner: project.runner)
        defer { _ = try? setup.devenv(["down"]) }
        func webRuns() throws -> Bool { try setup.devenv(["ps"]).stdout.contains("web\trunning") }

        #expect(try setup.devenv(["up", "web"]).succeeded)
        #expect(try setup.devenv(["run", "fetch"]).stdout == "full hello\n")
        #expect(try setup.record(["run", "fetch"]).stdout == "full hello\n")
        try setup.markRecords()
        let warm = try setup.devenv(["run", "fetch"])
        #expect(warm.stdout == "1 hello\n", "the front end did not answer from the record: \(warm.stderr)")
        #expect(try webRuns(), "a replayed session stopped a service that is up")

        // The service runs another definition than the record's: the full CLI starts this
        // one's in its place (held by that session only, so it stops when the session ends).
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(project.store)/projects").first)
        let services = "\(project.store)/projects/\(id)/services/web.json"
        var running = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: services))) as? [String: Any])
        var service = try #require(running["service"] as? [String: Any])
        service["fingerprint"] = "sha256:" + String(repeating: "0", count: 64)
        running["service"] = service
        try JSONSerialization.data(withJSONObject: running).write(to: URL(fileURLWithPath: services))
        let other = try setup.devenv(["run", "fetch"])
        #expect(other.stdout == "full hello\n" && other.stderr.contains("started service web"), "\(other.stdout)\(other.stderr)")
        #expect(try !webRuns())

        // Not running: the full CLI starts it for the session and stops it after.
        try setup.markRecords()
        let stopped = try setup.devenv(["run", "fetch"])
        #expect(stopped.stdout == "full hello\n" && stopped.stderr.contains("started service web"), "\(stopped.stdout)\(stopped.stderr)")
        #expect(try !webRuns())

        // Started by another session: the replayed one joins it and leaves it to that one.
        try setup.markRecords()
        let holder = try project.runner.start(["run", "hold"], directory: project.root, output: project.scratch.file("hold.out"))
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGTERM) } }
        let held = Date().addingTimeInterval(Self.timeout)
        while access("\(project.root)/held", F_OK) != 0 && holder.isRunning && Date() < held { Thread.sleep(forTimeInterval: 0.1) }
        #expect(access("\(project.root)/held", F_OK) == 0, "the holding session did not start")
        let joined = try setup.devenv(["run", "fetch"])
        #expect(joined.stdout == "1 hello\n", "\(joined.stdout)\(joined.stderr)")
        #expect(try webRuns(), "the replayed session stopped a service another session holds")
        try project.write("release", "")
        holder.waitUntilExit()
        #expect(holder.terminationStatus == 0)
        #expect(try !webRuns(), "the service outlived the sessions that held it")
    }

    func writeHomeFile(_ path: String, _ contents: String, runner: DevenvRunner) throws {
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        try runner.own(path)
    }

    @Test(arguments: DevenvUser.allCases) func aNoOpBuildIsAnsweredAndAChangeIsBuilt(_ user: DevenvUser) throws {
        guard let setup = try setup(user) else { return }
        let first = try setup.devenv(["build"])
        #expect(first.succeeded, "\(first.stderr)")
        let recorded = try setup.record(["build"])
        #expect(recorded.stdout == first.stdout)
        try setup.markRecords()
        #expect(try setup.devenv(["build"]).stdout == "marked\n")

        try setup.write("payload.txt", "v2\n")
        let rebuilt = try setup.devenv(["build"])
        #expect(rebuilt.succeeded, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout != first.stdout && rebuilt.stdout.hasPrefix("localhost/devenv/project:"))
        #expect(rebuilt.stderr.contains("payload.txt changed"), "\(rebuilt.stderr)")

        // Removing the image takes the record's image away: the build runs again.
        _ = try setup.record(["build"])
        try setup.markRecords()
        #expect(try setup.devenv(["image", "rm", String(first.stdout.split(separator: " ")[0])]).succeeded)
        let again = try setup.devenv(["build"])
        #expect(again.stdout == rebuilt.stdout, "\(again.stderr)")
    }
}
