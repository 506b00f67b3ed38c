@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a run step commits, root and rootless (issue 11 items 6 and 7, issue 12 items 1-3):
/// only the step's own changes, never a name other tools read as a deletion, files of any
/// mode with the owners the container saw, and nothing left behind by an interrupted step.
@Suite(.enabled(if: Requirement.root(), "needs root to run containers and to act as the rootless test user"), .timeLimit(.minutes(20)))
struct BuildCommitTests {
    static func manifest(run: String, cache: [String] = []) -> String {
        var text = "[base]\nimage = \"base:it\"\n\n[[step]]\nrun = \"\(run)\"\n"
        if !cache.isEmpty { text += "cache = [\(cache.map { "\"\($0)\"" }.joined(separator: ", "))]\n" }
        return text
    }

    @Test(arguments: DevenvUser.allCases)
    func whiteoutLookalikesFailTheBuildNamingThePath(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let shapes = [("touch /.wh.bin", ".wh.bin"), ("mkdir /.wh.usr", ".wh.usr"), ("ln -s x /.wh.etc", ".wh.etc"),
                      ("touch /tmp/.wh..wh..opq", "tmp/.wh..wh..opq")]
        let project = try StepProject(as: user, manifest: Self.manifest(run: "true"))
        for (command, entry) in shapes {
            try project.write(".devenv/devenv.toml", Self.manifest(run: command))
            let built = try project.build()
            #expect(built.result.status == 125, "\(command): \(built.result.stderr)")
            #expect(built.result.stderr.contains("entry '\(entry)': a file named '.wh.*' cannot be stored in a layer"), "\(built.result.stderr)")
        }
        // A copy of a working-tree file with such a name is refused the same way.
        try project.write(".wh.x", "x\n")
        try project.write(".devenv/devenv.toml", "[base]\nimage = \"base:it\"\n\n[[step]]\ncopy = [\".wh.x\"]\nto = \"/opt/\"\n")
        let copied = try project.build()
        #expect(copied.result.status == 125, "\(copied.result.stderr)")
        #expect(copied.result.stderr.contains("entry 'opt/.wh.x': a file named '.wh.*'"), "\(copied.result.stderr)")

        // A Dockerfile ADD of an archive holding a whiteout: unpacked, it is an overlay
        // whiteout in the staged tree, which no plain layer may carry.
        try FileManager.default.createDirectory(atPath: project.scratch.file("archive"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: project.scratch.file("archive/.wh.bin"), contents: Data())
        try DevenvProcess.run("tar", ["-C", project.scratch.file("archive"), "-cf", "\(project.root)/a.tar", "."])
        try project.write("Dockerfile", "FROM base:it\nADD a.tar /opt/\n")
        let added = try project.devenv(["build", "--file", "Dockerfile"])
        #expect(added.status == 125, "\(added.stderr)")
        #expect(added.stderr.contains("entry 'opt/bin': a 0:0 character device is an overlay whiteout"), "\(added.stderr)")
    }

    @Test(arguments: DevenvUser.allCases)
    func deletionsStillBecomeWhiteouts(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: Self.manifest(run: "rm /bin/stat; rm -r /tmp; mkdir /tmp; touch /tmp/new"))
        let built = try project.build()
        #expect(built.result.succeeded, "\(built.result.stderr)")
        let layer = try project.topLayer()
        #expect(layer.contains("---------- 0/0 bin/.wh.stat"), "\(layer)")
        #expect(layer.contains("---------- 0/0 tmp/.wh..wh..opq"), "\(layer)")
        #expect(layer.contains("-rw-r--r-- 0/0 tmp/new"), "\(layer)")
        let listed = try project.devenv(["run", "--", "sh", "-c", "test -e /bin/stat || echo gone; ls /tmp"])
        #expect(listed.stdout == "gone\nnew\n", "\(listed.stderr)")
    }

    /// The runtime's mount points (/proc, /dev, /sys, /etc/hosts, /etc/hostname,
    /// /etc/resolv.conf, the home directory, cache mount targets) are not the step's.
    @Test(arguments: DevenvUser.allCases)
    func aStepLayerHoldsOnlyTheStepsChanges(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: Self.manifest(
            run: "touch /made; mkdir -p /var/cache/own; echo x > /var/cache/own/f; echo y > /var/cache/thing/in-cache",
            cache: ["/var/cache/thing"]))
        let built = try project.build()
        #expect(built.result.succeeded, "\(built.result.stderr)")
        #expect(try project.topLayer() == ["-rw-r--r-- 0/0 made", "drwxr-xr-x 0/0 var/", "drwxr-xr-x 0/0 var/cache/",
                                           "drwxr-xr-x 0/0 var/cache/own/", "-rw-r--r-- 0/0 var/cache/own/f"])
        let shown = try project.devenv(["run", "--", "cat", "/var/cache/own/f"])
        #expect(shown.stdout == "x\n", "\(shown.stderr)")
    }

    /// A step user the image does not list is added to /etc/passwd and /etc/group for the
    /// step only; a step that edits them itself keeps its edit. A uid without an account
    /// runs with gid 0, as runc and buildah run it.
    @Test(arguments: DevenvUser.allCases)
    func theRuntimesAccountsStayOutOfTheLayer(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: "[base]\nimage = \"base:it\"\n\n[[step]]\nuser = \"1500\"\n\n[[step]]\nrun = \"touch /tmp/x\"\n")
        let built = try project.build()
        #expect(built.result.succeeded, "\(built.result.stderr)")
        let layer = try project.topLayer()
        #expect(layer.contains("-rw-r--r-- 1500/0 tmp/x"), "\(layer)")
        #expect(!layer.contains { $0.hasSuffix(" etc/") || $0.hasSuffix(" etc/passwd") || $0.hasSuffix(" etc/group") }, "\(layer)")

        try project.write(".devenv/devenv.toml", Self.manifest(run: "echo extra:x:7:7::/:/bin/sh >> /etc/passwd"))
        #expect(try project.build().result.succeeded)
        #expect(try project.topLayer().contains { $0.hasSuffix(" etc/passwd") })
    }

    /// Container root leaves files only it can read (apt's logs, /etc/ssl/private); the
    /// commit reads them as it does and records the owners it saw.
    @Test(arguments: DevenvUser.allCases)
    func privateFilesCommitWithTheContainersOwners(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: Self.manifest(
            run: "mkdir /d; echo s > /d/f; chown 1500:1600 /d/f; chmod 600 /d/f; chmod 700 /d; echo t > /top; chmod 600 /top"))
        let built = try project.build()
        #expect(built.result.succeeded, "\(built.result.stderr)")
        #expect(try project.topLayer() == ["drwx------ 0/0 d/", "-rw------- 1500/1600 d/f", "-rw------- 0/0 top"])
    }

    /// Overlay leaves its work directory mode 0000 and owned by the namespace's root; the
    /// next build, a forced rebuild and a run of the project must still work.
    @Test(arguments: DevenvUser.allCases)
    func theProjectStaysUsableAfterARunStep(user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try StepProject(as: user, manifest: Self.manifest(run: "mkdir /p; chmod 700 /p; touch /p/f"))
        #expect(try project.build().result.succeeded)
        let again = try project.build()
        #expect(again.result.succeeded, "\(again.result.stderr)")
        let forced = try project.build(["--no-cache"])
        #expect(forced.result.succeeded, "\(forced.result.stderr)")
        let ran = try project.devenv(["run", "--", "true"])
        #expect(ran.succeeded, "\(ran.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(project.store)/projects/\(try project.projectID())/work"))

        // The step's upper directory became a snapshot; once nothing uses it, gc removes it
        // although the user cannot open its mode-0700 directory of a subordinate id.
        try project.write(".devenv/devenv.toml", Self.manifest(run: "touch /other"))
        #expect(try project.build().result.succeeded)
        let collected = try project.devenv(["gc"])
        #expect(collected.succeeded, "\(collected.stderr)")
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(project.store)/snapshots")
        #expect(!snapshots.contains { FileManager.default.fileExists(atPath: "\(project.store)/snapshots/\($0)/p") }, "\(collected.stdout)")
    }

    /// SIGINT (Ctrl-C) or SIGTERM during a step stops it at once, even when the step's shell
    /// waits for a child that the forwarded signal does not reach; nothing of the step stays.
    /// `devenv run` (and `shell`) build first, the same way.
    @Test(arguments: [(DevenvUser.root, SIGINT, "build"), (.rootless, SIGINT, "build"), (.root, SIGTERM, "build"),
                      (.rootless, SIGTERM, "build"), (.rootless, SIGINT, "run")])
    func anInterruptedStepStopsAndLeavesNothing(user: DevenvUser, signal: Int32, command: String) throws {
        try Requirement.require(root: true)
        // The delay comes from the cache mount, so the same step (the same cache key) can
        // run quickly the second time.
        let project = try StepProject(as: user, manifest: Self.manifest(
            run: "echo step-$((1+1))-started >&2; sleep $(cat /delay/seconds 2>/dev/null || echo 40); echo done > /result", cache: ["/delay"]))
        let (process, stderr) = try project.start(command == "run" ? ["run", "--", "true"] : [command])
        var seen = Data()
        // The step's own output, not its header (which quotes the command) says it runs.
        while !String(decoding: seen, as: UTF8.self).contains("step-2-started") {
            let chunk = stderr.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        #expect(String(decoding: seen, as: UTF8.self).contains("step-2-started"))
        let sent = Date()
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let elapsed = Date().timeIntervalSince(sent)
        seen += stderr.readDataToEndOfFile()
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal, "\(String(decoding: seen, as: UTF8.self))")
        #expect(elapsed < 2, "stopped after \(elapsed) s")
        #expect(String(decoding: seen, as: UTF8.self).contains("build step 1 interrupted by signal \(signal)"))

        let state = "\(project.store)/projects/\(try project.projectID())"
        #expect(!FileManager.default.fileExists(atPath: "\(state)/work"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(project.store)/ingest")) ?? []).isEmpty)
        let cache = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(state)/cache").first)
        try "0\n".write(toFile: "\(state)/cache/\(cache)/seconds", atomically: false, encoding: .utf8)
        let rebuilt = try project.build()
        #expect(rebuilt.result.succeeded, "\(rebuilt.result.stderr)")
        #expect(rebuilt.steps.first?["cached"] as? Bool == false)
        #expect(rebuilt.steps.first?["reason"] as? String == "not built before")
        #expect(try project.topLayer() == ["-rw-r--r-- 0/0 result"])
    }

    /// Issue 12 item 2 as a user meets it: apt leaves /var/log/apt/term.log mode 0640
    /// root:adm; the layer records it as the container saw it. The base (bootstrapped
    /// rootless by mmdebstrap) has no /etc/resolv.conf or /etc/hostname, which the runtime
    /// provides during the step: they stay out of the layer.
    @Test(.enabled(if: Requirement.programs("mmdebstrap"), "needs mmdebstrap and Debian's archive"))
    func aPackagesStepCommitsRootless() throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        let project = try StepProject(as: .rootless, manifest: "[base]\ndistro = \"debian:bookworm\"\n\n[[step]]\npackages = [\"hello\"]\n")
        let built = try project.build()
        #expect(built.result.succeeded, "\(built.result.stderr)")
        // The package database's layer on top, hello's own below it (docs/layers.md).
        let layer = try project.topLayer()
        let package = try project.topLayer(below: 1)
        #expect(layer.contains("-rw-r----- 0/4 var/log/apt/term.log"), "\(layer)")
        #expect(package.contains("-rwxr-xr-x 0/0 usr/bin/hello"), "\(package)")
        #expect(!(layer + package).contains { $0.hasSuffix(" etc/resolv.conf") || $0.hasSuffix(" etc/hostname") }, "\(layer)")
        let hello = try project.devenv(["run", "--", "hello"])
        #expect(hello.stdout == "Hello, world!\n", "\(hello.stderr)")
    }
}
