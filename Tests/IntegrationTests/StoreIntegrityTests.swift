@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 8 end to end: a `devenv gc` SIGKILLed in the middle of deleting a big
/// snapshot never leaves a partial snapshot that a later pull would use, and `devenv check`
/// finds damaged blobs, snapshots and names, and `--repair` removes them.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("docker-registry", "tar"), "needs root (to act as the test user too), docker-registry and tar"))
struct StoreIntegrityTests {
    /// A busybox root plus `files` small files, pushed to `registry` as `name`, and pulled
    /// (so unpacked) into `store`.
    static func pushedImage(_ scratch: Scratch, registry: TestRegistry, repository: String, files: Int, as runner: DevenvRunner) throws -> String {
        let root = try Fixtures.busyboxRoot(in: scratch, name: repository)
        for directory in 0..<max(1, files / 500) {
            let path = "\(root)/many/d\(directory)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for file in 0..<min(files, 500) {
                guard FileManager.default.createFile(atPath: "\(path)/f\(file)", contents: Data("\(file)\n".utf8)) else {
                    throw DevenvProcess.Missing(what: "a writable scratch directory")
                }
            }
        }
        let tarball = scratch.file("\(repository).tar")
        let tar = try DevenvProcess.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tarball, "."])
        guard tar.succeeded else { throw DevenvProcess.Missing(what: "a working tar: \(tar.stderr)") }
        let name = "\(registry.authority)/\(repository)/image:1"
        try runner.own(scratch.path)
        for step in [["image", "import", tarball, "--tag", name], ["push", name], ["pull", name]] {
            let result = try runner.devenv(step, timeout: 300)
            guard result.succeeded else { throw DevenvProcess.Missing(what: "devenv \(step[0]) to work: \(result.stderr)") }
        }
        return name
    }

    static func snapshotNames(_ store: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(store)/snapshots")) ?? []).sorted()
    }

    /// Snapshot directories (not markers, work or trash).
    static func snapshotKeys(_ store: String) -> [String] {
        snapshotNames(store).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".complete") }
    }

    static func hasMarker(_ store: String, _ key: String) -> Bool {
        access("\(store)/snapshots/\(key).complete", F_OK) == 0
    }

    /// Every entry below `path`, not following symlinks.
    static func entryCount(_ path: String) -> Int {
        var count = 0
        let enumerator = FileManager.default.enumerator(atPath: path)
        while enumerator?.nextObject() != nil { count += 1 }
        return count
    }

    @Test(arguments: DevenvUser.allCases)
    func gcKilledMidDeletionNeverLeavesAPartialSnapshotInUse(_ user: DevenvUser) throws {
        try Requirement.require(programs: ["docker-registry", "tar"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch("devenv-gc-kill")
        let runner = try DevenvRunner(user, scratch: scratch)
        let store = runner.store
        let name = try Self.pushedImage(scratch, registry: registry, repository: "big", files: 6000, as: runner)
        let keys = Self.snapshotKeys(store)
        try #require(keys.count == 1, "one layer, one snapshot: \(Self.snapshotNames(store))")
        let key = keys[0]
        let snapshot = "\(store)/snapshots/\(key)"
        let complete = Self.entryCount(snapshot)
        #expect(complete > 6000)
        #expect(Self.hasMarker(store, key))

        // nil: kill as soon as the deletion has visibly begun; else after that many seconds.
        var caughtMidDeletion = false
        for delay in [nil, 0.0, 0.1] as [Double?] {
            #expect(try runner.devenv(["image", "rm", name]).succeeded)
            let gc = Process()
            let (program, arguments) = try runner.command(["gc"])
            gc.executableURL = URL(fileURLWithPath: program)
            gc.arguments = arguments
            gc.standardOutput = FileHandle.nullDevice
            gc.standardError = FileHandle.nullDevice
            try gc.run()
            if let delay {
                usleep(useconds_t(delay * 1_000_000))
            } else {
                let topLevel = (try? FileManager.default.contentsOfDirectory(atPath: snapshot).count) ?? 0
                let deadline = Date().addingTimeInterval(30)
                // Files are being removed: from the trash name, or (as gc once did) in place.
                while gc.isRunning, Date() < deadline {
                    let begun = Self.snapshotNames(store).contains { $0.hasPrefix(".trash-") }
                        || ((try? FileManager.default.contentsOfDirectory(atPath: snapshot).count) ?? 0) != topLevel
                    if begun { break }
                    usleep(100)
                }
            }
            kill(gc.processIdentifier, SIGKILL)
            gc.waitUntilExit()
            let underway = Self.snapshotNames(store).contains { $0.hasPrefix(".trash-") }
                || (FileManager.default.fileExists(atPath: snapshot) && !Self.hasMarker(store, key))
            if underway { caughtMidDeletion = true }

            // The invariant, wherever gc stopped: a marker means the whole snapshot is there.
            for present in Self.snapshotKeys(store) where Self.hasMarker(store, present) {
                #expect(Self.entryCount("\(store)/snapshots/\(present)") == complete, "delay \(String(describing: delay)): a marked snapshot lost files")
            }

            let pulled = try runner.devenv(["pull", name], timeout: 300)
            #expect(pulled.succeeded, "\(pulled.stderr)")
            #expect(Self.hasMarker(store, key))
            #expect(Self.entryCount(snapshot) == complete, "delay \(String(describing: delay)): the pull reused a partial snapshot")
            let check = try runner.devenv(["check"], timeout: 300)
            #expect(check.succeeded, "\(check.stdout)\(check.stderr)")
        }
        #expect(caughtMidDeletion, "no kill landed inside the deletion; the test proved nothing")
    }

    @Test(arguments: DevenvUser.allCases)
    func checkFindsDamageAndRepairMakesTheStoreWhole(_ user: DevenvUser) throws {
        try Requirement.require(programs: ["docker-registry", "tar"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch("devenv-check")
        let runner = try DevenvRunner(user, scratch: scratch)
        let store = runner.store
        let name = try Self.pushedImage(scratch, registry: registry, repository: "small", files: 10, as: runner)
        let clean = try runner.devenv(["check"])
        #expect(clean.succeeded && clean.stdout.contains("no damage"), "\(clean.stdout)\(clean.stderr)")

        // A layer blob with one byte changed (same size).
        let inspect = try runner.devenv(["image", "inspect", name, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        let layer = try #require(((object?["manifest"] as? [String: Any])?["layers"] as? [[String: Any]])?.first?["digest"] as? String)
        let blob = "\(store)/blobs/sha256/\(layer.dropFirst(7))"
        let handle = try #require(FileHandle(forUpdatingAtPath: blob))
        try handle.seek(toOffset: 100)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()
        // A snapshot an interrupted in-place deletion left: files gone, no marker.
        let key = try #require(Self.snapshotKeys(store).first)
        let snapshot = "\(store)/snapshots/\(key)"
        try FileManager.default.removeItem(atPath: "\(snapshot)/many")
        try FileManager.default.removeItem(atPath: "\(snapshot).complete")
        // A name (with a terminal escape in it) whose manifest is not in the store.
        let index = "\(store)/index.json"
        var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: index))) as? [String: Any])
        var manifests = document["manifests"] as? [[String: Any]] ?? []
        manifests.append(["mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 100,
                          "digest": "sha256:" + String(repeating: "ab", count: 32),
                          "annotations": ["org.opencontainers.image.ref.name": "localhost/evil\u{1b}[2J:1"]])
        document["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: index))

        let damaged = try runner.devenv(["check"], timeout: 300)
        #expect(damaged.status == 69, "\(damaged.stdout)\(damaged.stderr)")
        #expect(damaged.stdout.contains("damaged blob '\(layer)'"), "\(damaged.stdout)")
        #expect(damaged.stdout.contains("damaged snapshot '\(snapshot)': has no valid completion marker"), "\(damaged.stdout)")
        #expect(damaged.stdout.contains("damaged image 'localhost/evil\\x1b[2J:1'"), "\(damaged.stdout)")
        #expect(!damaged.stdout.contains("\u{1b}"), "untrusted names are escaped")
        #expect(damaged.stderr.contains("devenv check --repair"))

        let json = try runner.devenv(["check", "--json"], timeout: 300)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((report?["findings"] as? [[String: Any]])?.filter { $0["isDamage"] as? Bool == true }.count == 4, "\(json.stdout)")

        let repaired = try runner.devenv(["check", "--repair"], timeout: 300)
        #expect(repaired.succeeded, "\(repaired.stdout)\(repaired.stderr)")
        #expect(repaired.stdout.contains("(removed the blob)"))
        #expect(repaired.stdout.contains("4 damaged, 4 repaired"), "\(repaired.stdout)")
        let again = try runner.devenv(["check"], timeout: 300)
        #expect(again.succeeded && again.stdout.contains("no damage"), "\(again.stdout)")

        // The next pull makes everything again.
        let pulled = try runner.devenv(["pull", name], timeout: 300)
        #expect(pulled.succeeded, "\(pulled.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(snapshot)/many/d0/f9"))
        #expect(try runner.devenv(["check"], timeout: 300).succeeded)
    }
}

/// gc keeps the build cache honest: an entry exists only while its layer does, so after a
/// gc `devenv check` finds no entry pointing at a removed layer.
@Suite struct BuildCacheGCTests {
    @Test func gcRemovesTheEntriesOfTheLayersItRemoves() throws {
        let project = try ProjectFixture(manifest: """
        [base]
        image = "busybox:it"

        [[step]]
        copy = ["p.txt"]
        to = "/p.txt"
        """)
        try project.write("p.txt", "one\n")
        #expect(try project.devenv(["build"]).succeeded)
        try project.write("p.txt", "two\n")
        let second = try project.devenv(["build"])
        #expect(second.succeeded, "\(second.stderr)")
        let cache = "\(project.store)/buildcache"
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 2)

        let gc = try DevenvProcess.devenv(["gc"], store: project.store)
        #expect(gc.succeeded, "\(gc.stderr)")
        #expect(gc.stdout.contains(", 1 build-cache records:"), "\(gc.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 1, "the first build's entry went with its layer")
        let check = try DevenvProcess.devenv(["check"], store: project.store)
        #expect(check.succeeded && check.stdout.contains("no damage"), "\(check.stdout)\(check.stderr)")

        // A torn cache entry and a project's build record that does not decode.
        let entry = "\(cache)/\(try #require(try FileManager.default.contentsOfDirectory(atPath: cache).first))"
        try Data("{\"key\":".utf8).write(to: URL(fileURLWithPath: entry))
        let projects = "\(project.store)/projects"
        let record = "\(projects)/\(try #require(try FileManager.default.contentsOfDirectory(atPath: projects).first))/record.json"
        try Data("[]".utf8).write(to: URL(fileURLWithPath: record))
        let damaged = try DevenvProcess.devenv(["check"], store: project.store)
        #expect(damaged.status == 69)
        #expect(damaged.stdout.contains("damaged record '\(entry)': unreadable build-cache record"), "\(damaged.stdout)")
        #expect(damaged.stdout.contains("damaged record '\(record)': does not decode"), "\(damaged.stdout)")
        #expect(try DevenvProcess.devenv(["check", "--repair"], store: project.store).succeeded)
        #expect(!FileManager.default.fileExists(atPath: entry) && !FileManager.default.fileExists(atPath: record))
        #expect(try DevenvProcess.devenv(["check"], store: project.store).succeeded)
        let rebuilt = try project.devenv(["build"])
        #expect(rebuilt.succeeded, "\(rebuilt.stderr)")
    }
}
