@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17, a store that stays within its budget: `devenv gc` of build caches and of
/// projects that are gone, `--max-size`, the config file, `devenv df`, and gc racing builds
/// or being killed.
@Suite(.serialized) struct StoreBudgetCommandTests {
    private static let copyProject = """
    [base]
    image = "busybox:it"

    [[step]]
    copy = ["p.txt"]
    to = "/p.txt"
    """

    private static func names(_ runner: DevenvRunner) throws -> [String] {
        let list = try runner.devenv(["image", "ls", "--json"])
        let images = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        return images.compactMap { $0["name"] as? String }.sorted()
    }

    /// Today after removing every image `gc --dry-run` freed nothing: build records of
    /// projects long gone pinned their bases and their build cache stayed.
    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func gcRemovesTheImagesAndCachesOfProjectsWhoseDirectoryIsGone(_ user: DevenvUser) throws {
        let project = try ProjectFixture(manifest: Self.copyProject, as: user)
        try project.write("p.txt", "one\n")
        #expect(try project.devenv(["build"]).succeeded)
        try project.write("p.txt", "two\n")
        #expect(try project.devenv(["build"]).succeeded)
        let projects = "\(project.store)/projects"
        let state = try #require(try FileManager.default.contentsOfDirectory(atPath: projects).first)
        #expect(FileManager.default.fileExists(atPath: "\(projects)/\(state)/project.json"))
        _ = try project.runner.devenv(["image", "rm", "busybox:it"])

        let present = try project.runner.devenv(["gc", "--dry-run", "--json"])
        let kept = try JSONSerialization.jsonObject(with: Data(present.stdout.utf8)) as? [String: Any]
        #expect((kept?["removedNames"] as? [String])?.isEmpty == true, "a present project keeps its image")

        try FileManager.default.removeItem(atPath: project.root)
        let dry = try project.runner.devenv(["gc", "--dry-run"])
        #expect(dry.succeeded, "\(dry.stderr)")
        #expect(dry.stdout.contains("2 build-cache records"), "\(dry.stdout)")
        #expect(dry.stdout.contains("would remove 1 image name(s) of projects whose directory is gone"), "\(dry.stdout)")
        #expect(!dry.stdout.contains(": 0 B reclaimable"), "\(dry.stdout)")
        #expect(try Self.names(project.runner).count == 1, "a dry run removes nothing")

        let gc = try project.runner.devenv(["gc"])
        #expect(gc.succeeded, "\(gc.stderr)")
        #expect(try Self.names(project.runner).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: projects).isEmpty, "the project's state went too")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(project.store)/buildcache").isEmpty)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(project.store)/blobs/sha256")
        #expect(blobs.isEmpty, "\(blobs)")
        let check = try project.runner.devenv(["check"])
        #expect(check.succeeded && check.stdout.contains("no damage"), "\(check.stdout)")
    }

    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func maxSizeEvictsWhatIsUnusedButNeverTheLockedBase(_ user: DevenvUser) throws {
        let project = try ProjectFixture(manifest: Self.copyProject, as: user)
        try project.write("p.txt", "one\n")
        #expect(try project.devenv(["build"]).succeeded)
        // A second, big image nobody uses.
        let big = project.scratch.file("big")
        try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        try Data((0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: "\(big)/noise"))
        try project.runner.own(big)
        #expect(try project.runner.devenv(["image", "import", big, "--tag", "big:1"]).succeeded)
        #expect(try Self.names(project.runner).count == 3)

        let roomy = try project.runner.devenv(["gc", "--max-size", "10GB"])
        #expect(roomy.stdout.contains("nothing to evict"), "\(roomy.stdout)")
        #expect(try Self.names(project.runner).count == 3)

        let trimmed = try project.runner.devenv(["gc", "--max-size", "1"])
        #expect(trimmed.succeeded, "\(trimmed.stderr)")
        #expect(trimmed.stdout.contains("evicted 2 images, 1 build-cache entry (least recently used)"), "\(trimmed.stdout)")
        #expect(try Self.names(project.runner) == ["busybox:it"], "the base the project's lock pins stays")
        #expect(try project.runner.devenv(["check"]).succeeded)
        let rebuilt = try project.devenv(["build"])
        #expect(rebuilt.succeeded && rebuilt.stderr.contains("rebuilt"), "\(rebuilt.stderr)")

        let bad = try project.runner.devenv(["gc", "--max-size", "lots"])
        #expect(bad.status == 64 && bad.stderr.contains("--max-size 'lots' is not a size"), "\(bad.stderr)")
    }

    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func theAutomaticBudgetComesFromTheConfigFile(_ user: DevenvUser) throws {
        let project = try ProjectFixture(manifest: Self.copyProject, as: user)
        let config = project.scratch.file("config")
        try FileManager.default.createDirectory(atPath: "\(config)/devenv", withIntermediateDirectories: true)
        try "[store]\nmax-size = \"ten\"\n".write(toFile: "\(config)/devenv/config.toml", atomically: false, encoding: .utf8)
        try project.runner.own(config)
        try project.write("p.txt", "one\n")
        let warned = try project.runner.devenv(["build"], environment: ["XDG_CONFIG_HOME": config], directory: project.root)
        #expect(warned.succeeded, "a broken config file never fails a build: \(warned.stderr)")
        #expect(warned.stderr.contains("\(config)/devenv/config.toml:2:12: error: store.max-size: 'ten' is not a size"), "\(warned.stderr)")

        try "[store]\nmax-size = \"1\"\n".write(toFile: "\(config)/devenv/config.toml", atomically: false, encoding: .utf8)
        try project.write("p.txt", "two\n")
        let trimmed = try project.runner.devenv(["build"], environment: ["XDG_CONFIG_HOME": config], directory: project.root)
        #expect(trimmed.succeeded, "\(trimmed.stderr)")
        #expect(trimmed.stderr.contains("store over its 1 B budget: evicted 1 build-cache entry"), "\(trimmed.stderr)")
        #expect(try Self.names(project.runner).count == 2, "the image just built and the locked base stay")
        #expect(try project.runner.devenv(["check"]).succeeded)

        // Nothing over the budget: nothing said.
        try "[store]\nmax-size = \"off\"\n".write(toFile: "\(config)/devenv/config.toml", atomically: false, encoding: .utf8)
        try project.write("p.txt", "three\n")
        let off = try project.runner.devenv(["build"], environment: ["XDG_CONFIG_HOME": config], directory: project.root)
        #expect(off.succeeded && !off.stderr.contains("budget"), "\(off.stderr)")
    }

    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func dfListsEachKindWithWhatIsReclaimable(_ user: DevenvUser) throws {
        let project = try ProjectFixture(manifest: Self.copyProject, as: user)
        try project.write("p.txt", "one\n")
        #expect(try project.devenv(["build"]).succeeded)
        let json = try project.runner.devenv(["df", "--json"])
        #expect(json.succeeded, "\(json.stderr)")
        let usage = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rows = try #require(usage["rows"] as? [[String: Any]])
        #expect(rows.compactMap { $0["kind"] as? String } == ["image", "build-cache", "cache-mount", "snapshots", "unreferenced blobs"])
        #expect(rows[0]["count"] as? Int == 2 && (rows[0]["bytes"] as? Int ?? 0) > 0)
        #expect(rows[1]["count"] as? Int == 1)
        #expect((usage["total"] as? Int ?? 0) > 0)
        let table = try project.runner.devenv(["system", "df"])
        #expect(table.succeeded && table.stdout.hasPrefix("TYPE") && table.stdout.contains("build-cache"), "\(table.stdout)")
    }

    /// A gc (with a budget of nothing) while a build runs waits for it; the build's
    /// result survives and the store stays consistent. Root and rootless.
    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func gcDuringABuildWaitsForIt(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-gc-race")
        let store = scratch.file("store")
        let runner = try DevenvRunner(user, scratch: scratch, store: store)
        let root = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(root)/.devenv", withIntermediateDirectories: true)
        try """
        [base]
        image = "busybox:it"

        [[step]]
        run = "sleep 2; echo built > /result"
        """.write(toFile: "\(root)/.devenv/devenv.toml", atomically: false, encoding: .utf8)
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        try runner.own(scratch.path)
        #expect(try runner.devenv(["image", "import", tarball, "--tag", "busybox:it"]).succeeded)

        let build = Process()
        let (program, arguments) = try runner.command(["build"], environment: ["DEVENV_HOME": store])
        build.executableURL = URL(fileURLWithPath: program)
        build.arguments = arguments
        build.currentDirectoryURL = URL(fileURLWithPath: root)
        build.environment = ProcessInfo.processInfo.environment.merging(["DEVENV_HOME": store]) { _, new in new }
        build.standardOutput = FileHandle.nullDevice
        build.standardError = FileHandle.nullDevice
        try build.run()
        // The build holds the store's gc lock shared from its planning until its step (two
        // seconds of sleep) is committed.
        let deadline = Date().addingTimeInterval(60)
        while access("\(store)/projects", F_OK) != 0, build.isRunning, Date() < deadline { usleep(20_000) }
        usleep(700_000)
        let gc = try runner.devenv(["gc", "--max-size", "0"], timeout: 120)
        build.waitUntilExit()
        #expect(build.terminationStatus == 0)
        #expect(gc.succeeded, "\(gc.stderr)")
        #expect(gc.stderr.contains("waiting for running imports and builds to finish"), "gc waited: \(gc.stderr)")
        let check = try runner.devenv(["check"], timeout: 120)
        #expect(check.succeeded, "\(check.stdout)")
        let again = try runner.devenv(["run", "--", "cat", "/result"], directory: root, timeout: 120)
        #expect(again.stdout == "built\n", "\(again.stderr)")
    }
}

/// A gc trimming to a budget SIGKILLed at different moments: each time the next gc finishes
/// the job and `devenv check` is clean. Root and rootless.
@Suite(.serialized, .enabled(if: Requirement.programs("docker-registry", "tar")))
struct InterruptedBudgetGCTests {
    @Test(arguments: DevenvUser.allCases)
    func killedGCConverges(_ user: DevenvUser) throws {
        try Requirement.require(programs: ["docker-registry", "tar"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch("devenv-budget-kill")
        let store = scratch.file("store")
        let runner = try DevenvRunner(user, scratch: scratch, store: store)
        let name = try StoreIntegrityTests.pushedImage(scratch, registry: registry, repository: "budget", files: 4000, as: runner)
        for delay in [20_000, 60_000, 150_000] as [useconds_t] {
            let (program, arguments) = try runner.command(["gc", "--max-size", "0"], environment: ["DEVENV_HOME": store])
            let gc = Process()
            gc.executableURL = URL(fileURLWithPath: program)
            gc.arguments = arguments
            gc.environment = ProcessInfo.processInfo.environment.merging(["DEVENV_HOME": store]) { _, new in new }
            gc.standardOutput = FileHandle.nullDevice
            gc.standardError = FileHandle.nullDevice
            try gc.run()
            usleep(delay)
            kill(gc.processIdentifier, SIGKILL)
            gc.waitUntilExit()
            let check = try runner.devenv(["check"], timeout: 300)
            #expect(check.succeeded, "after a kill at \(delay)µs: \(check.stdout)")
            let pulled = try runner.devenv(["pull", name], timeout: 300)
            #expect(pulled.succeeded, "\(pulled.stderr)")
        }
        let finished = try runner.devenv(["gc", "--max-size", "0"], timeout: 300)
        #expect(finished.succeeded, "\(finished.stderr)")
        #expect(StoreIntegrityTests.snapshotNames(store).isEmpty, "\(StoreIntegrityTests.snapshotNames(store))")
        let check = try runner.devenv(["check"], timeout: 300)
        #expect(check.succeeded && check.stdout.contains("no damage"), "\(check.stdout)")
    }
}
