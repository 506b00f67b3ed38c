@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12: `devenv pull` unpacks a layer while it downloads, as root and rootless (where
/// the user-namespace helper follows the growing blob), with the root path's guarantees:
/// the same tree as unpacking the finished blob, nothing visible before the blob is
/// verified, and an interrupted or corrupt download leaves nothing a later pull would use.
/// Runs the real devenv-core, as root and as the test user, through the fault proxy in
/// front of a real registry.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("docker-registry", "tar", "gzip"),
                             "needs root (to act as the test user too), docker-registry, tar and gzip"),
       .timeLimit(.minutes(10)))
struct StreamingPullTests {
    /// A three-layer image with owners, modes, xattrs, a hardlink, a symlink, a whiteout
    /// and an opaque directory, pushed to a real registry with a fault proxy in front.
    /// Layer 0 starts with `a/first` and ends with 8 MiB of random bytes, so a test can
    /// hold its download in the middle while its start is already extractable.
    final class Fixture: @unchecked Sendable {
        let registry: TestRegistry
        let proxy: FaultProxy
        let scratch: Scratch
        let layers: [Descriptor]
        let config: ImageConfig
        private let faults = RuleBox()
        let repository = "team/app"

        init() throws {
            registry = try TestRegistry()
            let faults = faults
            proxy = try FaultProxy(upstream: registry.port) { request, count in faults.rule(request, count) }
            scratch = try Scratch("devenv-streaming-pull")
            chmod(scratch.path, 0o755)
            let source = try Images.store(scratch, "source")
            var layers: [Descriptor] = []
            var diffIDs: [Digest] = []
            for (index, build) in [Self.baseLayer, Self.secondLayer, Self.thirdLayer].enumerated() {
                let root = scratch.file("layer-\(index)")
                let compressed = try build(root)
                let tar = scratch.file("layer-\(index).tar")
                try Tools.run("tar", ["--sort=name", "--mtime=@1700000000", "--numeric-owner", "--xattrs", "--xattrs-include=user.*",
                                      "-C", root, "-cf", tar, "."])
                diffIDs.append(Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: tar))))
                if compressed { try Tools.run("gzip", ["-n", "-1", "-k", "-f", tar]) }
                let blob = try Data(contentsOf: URL(fileURLWithPath: compressed ? tar + ".gz" : tar))
                layers.append(try source.content.put(blob, mediaType: compressed ? MediaType.layerTarGzip : MediaType.layerTar))
            }
            self.layers = layers
            config = ImageConfig(platform: .host, config: ImageConfig.RunConfig(cmd: ["/bin/sh"]), diffIDs: diffIDs)
            let image = try source.commitImage(name: "local", config: config, layers: layers)
            try RegistryClient(configuration: .testing()).push(image, from: source, to: try Reference(parsing: "\(registry.authority)/\(repository):1"))
        }

        deinit {
            proxy.stop()
            registry.stop()
        }

        var big: Descriptor { layers[0] }
        var reference: String { "\(proxy.authority)/\(repository):1" }

        /// Faults for layer 0's downloads from now on (`count`: its GETs so far, this one included).
        func onBigLayer(_ rule: @escaping @Sendable (_ count: Int) -> [FaultProxy.Fault]) {
            let digest = big.digest
            faults.rule = { request, count in isLayerGET(request, digest) ? rule(count) : [] }
        }

        func clearFaults() { faults.rule = { _, _ in [] } }

        private static func write(_ text: String, _ path: String, mode: mode_t = 0o644, owner: (uid_t, gid_t) = (0, 0)) throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try own(path, mode: mode, owner: owner)
        }

        private static func own(_ path: String, mode: mode_t, owner: (uid_t, gid_t)) throws {
            // chown first: it clears a set-id bit.
            guard lchown(path, owner.0, owner.1) == 0, chmod(path, mode) == 0 else { throw TestFailure("chown/chmod \(path): errno \(errno)") }
        }

        private static func directory(_ path: String, mode: mode_t = 0o755, owner: (uid_t, gid_t) = (0, 0)) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try own(path, mode: mode, owner: owner)
        }

        private static func xattr(_ path: String, _ name: String, _ value: String) throws {
            try Tools.run("setfattr", ["-n", name, "-v", value, path])
        }

        /// Returns whether the layer is gzip-compressed.
        static func baseLayer(_ root: String) throws -> Bool {
            try write("first\n", "\(root)/a/first")
            try write("root:x:0:0:root:/root:/bin/sh\n", "\(root)/etc/passwd")
            try write("root:*:19000::::::\n", "\(root)/etc/shadow", mode: 0o640, owner: (0, 42))
            try write("data\n", "\(root)/srv/data", mode: 0o640, owner: (7, 8))
            try xattr("\(root)/srv/data", "user.note", "hello")
            guard link("\(root)/srv/data", "\(root)/srv/data-link") == 0 else { throw TestFailure("link: errno \(errno)") }
            try directory("\(root)/srv/private", mode: 0o700, owner: (15, 15))
            try write("secret\n", "\(root)/srv/private/key", mode: 0o600, owner: (15, 15))
            try write("old\n", "\(root)/srv/private/old", owner: (15, 15))
            try write("\u{7f}ELF", "\(root)/usr/lib/libx.so", mode: 0o755)
            try FileManager.default.createSymbolicLink(atPath: "\(root)/lib", withDestinationPath: "usr/lib")
            try directory("\(root)/tmp", mode: 0o1777)
            try directory("\(root)/zz")
            try Images.randomData(8 << 20).write(to: URL(fileURLWithPath: "\(root)/zz/big"))
            return true
        }

        static func secondLayer(_ root: String) throws -> Bool {
            try directory("\(root)/etc")
            try write("", "\(root)/etc/.wh.shadow")
            try write("data v2\n", "\(root)/srv/data", mode: 0o600, owner: (9, 9))
            try write("two\n", "\(root)/srv/two", mode: 0o4755, owner: (2, 3))
            try xattr("\(root)/srv/two", "user.two", "2")
            return false
        }

        static func thirdLayer(_ root: String) throws -> Bool {
            try directory("\(root)/srv/private", mode: 0o750, owner: (15, 15))
            try write("", "\(root)/srv/private/.wh..wh..opq")
            try write("new\n", "\(root)/srv/private/new", owner: (15, 16))
            return true
        }
    }

    /// A store of `user`'s, under a home the user owns.
    struct Puller {
        let user: DevenvUser
        let account: TestUser?
        let home: String
        var store: String { "\(home)/store" }

        init(_ user: DevenvUser, _ fixture: Fixture, name: String) throws {
            self.user = user
            account = try user.account()
            home = fixture.scratch.file("home-\(name)")
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try account?.own(home)
        }

        /// How the store's ids read as the image's: rootless, image root is the first subordinate id.
        var idBase: (UInt32, UInt32) { (account?.subordinateUID ?? 0, account?.subordinateGID ?? 0) }

        func command(_ arguments: [String]) throws -> (String, [String]) {
            let binary = try BuildProducts.executable("devenv-core")
            let line = [arguments[0], "--store", store] + arguments.dropFirst()
            let environment = ["DOCKER_CONFIG": "\(home)/docker", "DEVENV_CONFIG_DIR": "\(home)/config"]
            guard let account else {
                return ("/usr/bin/env", ["HOME=\(home)"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [binary] + line)
            }
            return account.command(binary, line, home: home, environment: environment)
        }

        func devenv(_ arguments: [String]) throws -> Tools.Result {
            let (program, line) = try command(arguments)
            return try Tools.execute(program, line)
        }

        /// Starts devenv with no signal blocked or ignored, as from a shell: the test
        /// runner's threads block SIGINT, and a child would inherit that.
        func start(_ arguments: [String]) throws -> pid_t {
            let (program, line) = try command(arguments)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            posix_spawnattr_setsigmask(&attributes, &none)
            var defaults = sigset_t()
            sigfillset(&defaults)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for descriptor: Int32 in [0, 1, 2] {
                posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
            }
            let argv = ([program] + line).map { strdup($0) } + [nil]
            let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer {
                argv.forEach { free($0) }
                envp.forEach { free($0) }
            }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
            guard spawned == 0 else { throw TestFailure("posix_spawn \(program): errno \(spawned)") }
            return pid
        }

        var snapshots: String { "\(store)/snapshots" }

        /// Whether an unpack in progress (a `.tmp-` work directory) has extracted `a/first`,
        /// the first entry of layer 0.
        func extractingFirstEntry() -> Bool {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshots)) ?? []
            return names.contains { name in
                var info = stat()
                return name.hasPrefix(".tmp-") && lstat("\(snapshots)/\(name)/a/first", &info) == 0 && info.st_size == 6
            }
        }

        /// Sends layer 0's first 3 MiB, then holds the rest (or with `then` drops the
        /// connection) until its unpack has extracted the first entry; `seen` records that it did.
        func holdUntilExtracting(_ seen: FlagBox, then: FaultProxy.Drop? = nil) -> FaultProxy.Fault {
            .pauseAfter(bytes: 3 << 20, until: {
                if self.extractingFirstEntry() { seen.value = true }
                return seen.value
            }, then: then)
        }

        /// `snapshots/` entries that are work in progress or deletions.
        func leftovers() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: snapshots)) ?? []).filter { $0.hasPrefix(".") }
        }

        func markers() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: snapshots)) ?? []).filter { $0.hasSuffix(".complete") }.sorted()
        }

        func hasBlob(_ digest: Digest) -> Bool {
            FileManager.default.fileExists(atPath: "\(store)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)")
        }

        func names() -> String { (try? String(contentsOfFile: "\(store)/index.json", encoding: .utf8)) ?? "" }

        /// Every node of every published snapshot as "key/path: type mode uid:gid size content link device xattrs",
        /// ids relative to `idBase`, overlay's xattrs without their namespace (`trusted.` as
        /// root, `user.` rootless).
        func tree() throws -> [String] {
            var lines: [String] = []
            let keys = try FileManager.default.contentsOfDirectory(atPath: snapshots).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".complete") }
            for key in keys.sorted() {
                let attributes = try Self.xattrs(below: "\(snapshots)/\(key)")
                try Self.walk("\(snapshots)/\(key)", label: key, base: idBase, xattrs: attributes, into: &lines)
            }
            return lines
        }

        private static func walk(_ path: String, label: String, base: (UInt32, UInt32), xattrs: [String: [String]], into lines: inout [String]) throws {
            var info = stat()
            guard lstat(path, &info) == 0 else { throw TestFailure("lstat \(path): errno \(errno)") }
            let type = info.st_mode & S_IFMT
            var content = ""
            if type == S_IFREG {
                content = Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: path))).encoded.prefix(12).description + " links \(info.st_nlink)"
            }
            let link = type == S_IFLNK ? ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?") : ""
            let device = type == S_IFCHR || type == S_IFBLK ? "dev \(info.st_rdev)" : ""
            let uid = info.st_uid >= base.0 ? "\(info.st_uid - base.0)" : "host\(info.st_uid)"
            let gid = info.st_gid >= base.1 ? "\(info.st_gid - base.1)" : "host\(info.st_gid)"
            let size = type == S_IFREG ? info.st_size : 0
            lines.append("\(label): \(String(type >> 12, radix: 8)) \(String(info.st_mode & 0o7777, radix: 8)) \(uid):\(gid) \(size) \(content) \(link) \(device) \((xattrs[path] ?? []).sorted().joined(separator: ","))")
            guard type == S_IFDIR else { return }
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
                try walk("\(path)/\(name)", label: "\(label)/\(name)", base: base, xattrs: xattrs, into: &lines)
            }
        }

        /// Every xattr below `root` by path (`getfattr -R`), overlay's without their namespace.
        private static func xattrs(below root: String) throws -> [String: [String]] {
            let dump = try Tools.execute("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "--absolute-names", root])
            var attributes: [String: [String]] = [:]
            var current = ""
            for line in dump.stdout.split(separator: "\n") {
                if line.hasPrefix("# file: ") {
                    current = String(line.dropFirst("# file: ".count))
                } else {
                    let shown = line.replacingOccurrences(of: "trusted.overlay.", with: "overlay.").replacingOccurrences(of: "user.overlay.", with: "overlay.")
                    attributes[current, default: []].append(shown.replacingOccurrences(of: "\"", with: ""))
                }
            }
            return attributes
        }
    }

    /// Rootless, unpacking while downloading gives the tree unpacking the finished blob
    /// gives (`pull --no-unpack`, then `pull`), and both are root's, in the mapped ids.
    @Test func rootlessStreamingGivesTheSameTreeAsUnpackingTheFinishedBlob() throws {
        let fixture = try Fixture()
        let streamed = try Puller(.rootless, fixture, name: "streamed")
        let fromFile = try Puller(.rootless, fixture, name: "from-file")
        let root = try Puller(.root, fixture, name: "root")
        for step in [(streamed, ["pull"]), (fromFile, ["pull", "--no-unpack"]), (fromFile, ["pull"]), (root, ["pull"])] {
            let result = try step.0.devenv(step.1 + [fixture.reference])
            try #require(result.status == 0, "\(step.1) as \(step.0.user): \(result.stderr)")
        }
        let tree = try streamed.tree()
        #expect(tree == (try fromFile.tree()))
        #expect(tree == (try root.tree()))
        #expect(streamed.markers().count == 3)
        #expect(streamed.leftovers().isEmpty, "\(streamed.leftovers())")
        // Owners as the layers give them (the mapped ids), modes, xattrs, the hardlink.
        let expected = ["/srv/data: 10 640 7:8 5", "/srv/data-link: 10 640 7:8 5", "/srv/private: 4 700 15:15", "/srv/private/key: 10 600 15:15 7",
                        "/etc/shadow: 10 640 0:42", "/lib: 12 777 0:0 0  usr/lib", "/tmp: 4 1777 0:0"]
        for line in expected {
            #expect(tree.contains { $0.contains(line) }, "no \(line) in\n\(tree.joined(separator: "\n"))")
        }
        #expect(tree.contains { $0.contains("/srv/data: ") && $0.contains("links 2") && $0.hasSuffix("user.note=hello") })
        #expect(tree.contains { $0.contains("/srv/two: 10 4755 2:3 4") && $0.hasSuffix("user.two=2") }, "\(tree.filter { $0.contains("/srv/two") })")
        #expect(tree.contains { $0.contains("/srv/private: 4 750 15:15") && $0.contains("overlay.opaque=y") })
        #expect(tree.contains { $0.contains("/etc/shadow: 2 ") && $0.contains("dev 0") }, "the whiteout")
    }

    /// The layer's first entry is extracted while the rest of its blob is still to come:
    /// the proxy sends 3 of its 8 MiB and waits (up to 60 s) until the test sees `a/first`
    /// in the unpack's work directory. Unpacking only a finished blob never shows it then.
    @Test(arguments: DevenvUser.allCases)
    func extractionStartsBeforeTheBlobHasArrived(_ user: DevenvUser) throws {
        let fixture = try Fixture()
        let puller = try Puller(user, fixture, name: "overlap")
        let seen = FlagBox(false)
        fixture.onBigLayer { count in
            count > 1 ? [] : [puller.holdUntilExtracting(seen)]
        }
        let pulled = try puller.devenv(["pull", fixture.reference])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(seen.value, "no entry of layer 0 was extracted while its download was held at 3 MiB")
        #expect(fixture.proxy.count("GET", "/blobs/\(fixture.big.digest)") == 1)
        #expect(puller.markers().count == 3)
        #expect(puller.leftovers().isEmpty, "\(puller.leftovers())")
        #expect(try puller.tree().contains { $0.contains("/zz/big: 10 644 0:0 \(8 << 20)") })
    }

    /// Layer 0 served with a flipped byte past the held point: its unpack had started (its
    /// first entry was out), the digest check fails at the end, the error names the blob,
    /// nothing of the layer is in the store, and the next pull makes it whole.
    @Test(arguments: DevenvUser.allCases)
    func aBlobThatFailsItsDigestLeavesNothingOfItsUnpack(_ user: DevenvUser) throws {
        let fixture = try Fixture()
        let puller = try Puller(user, fixture, name: "corrupt")
        let seen = FlagBox(false)
        fixture.onBigLayer { _ in
            [.flipByte(at: 6 << 20), puller.holdUntilExtracting(seen)]
        }
        let failed = try puller.devenv(["pull", fixture.reference])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("GET layer \(fixture.big.digest)") && failed.stderr.contains("expected \(fixture.big.digest)"), "\(failed.stderr)")
        #expect(seen.value, "the unpack had not started, so discarding it was not tested")
        try Self.expectNothingOfTheBigLayer(puller, fixture)

        fixture.clearFaults()
        try Self.expectAGoodPull(puller, fixture)
    }

    /// Every attempt at layer 0 is cut mid-blob (the first while its unpack is under way):
    /// the pull gives up naming the blob, keeps only the partial download, and the next
    /// pull resumes it and makes the layer whole.
    @Test(arguments: DevenvUser.allCases)
    func aConnectionCutMidBlobLeavesNothingOfItsUnpack(_ user: DevenvUser) throws {
        let fixture = try Fixture()
        let puller = try Puller(user, fixture, name: "cut")
        let seen = FlagBox(false)
        fixture.onBigLayer { count in
            guard count == 1 else { return [.dropAfter(bytes: 64 << 10, .reset)] }
            return [puller.holdUntilExtracting(seen, then: .reset)]
        }
        let failed = try puller.devenv(["pull", fixture.reference])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("GET layer \(fixture.big.digest)") && failed.stderr.contains("gave up after 5 failed attempts"), "\(failed.stderr)")
        #expect(seen.value, "the unpack had not started, so discarding it was not tested")
        try Self.expectNothingOfTheBigLayer(puller, fixture)

        fixture.clearFaults()
        try Self.expectAGoodPull(puller, fixture)
        let ranges = fixture.proxy.requests("GET", "/blobs/\(fixture.big.digest)").compactMap { $0["range"] }
        #expect(ranges.last?.hasPrefix("bytes=") == true && ranges.last != "bytes=0-\(fixture.big.size - 1)", "the good pull resumed: \(ranges)")
    }

    /// devenv killed (SIGINT, SIGKILL) while layer 0 downloads and unpacks: no snapshot of
    /// it is published, and the next pull cleans up and succeeds.
    @Test(arguments: DevenvUser.allCases, [SIGINT, SIGKILL])
    func aPullKilledMidBlobLeavesNothingHalfVisible(_ user: DevenvUser, signal: Int32) throws {
        let fixture = try Fixture()
        let puller = try Puller(user, fixture, name: "killed")
        let release = FlagBox(false)
        fixture.onBigLayer { count in
            count > 1 ? [] : [.pauseAfter(bytes: 3 << 20, until: { release.value }, then: .reset)]
        }
        let pid = try puller.start(["pull", fixture.reference])
        var status: Int32 = 0
        var exited = false
        let deadline = Date().addingTimeInterval(60)
        while !puller.extractingFirstEntry(), !exited, Date() < deadline {
            exited = waitpid(pid, &status, WNOHANG) == pid
            usleep(10_000)
        }
        #expect(puller.extractingFirstEntry(), "the unpack of layer 0 did not start while its download was held")
        kill(pid, signal)
        if !exited { _ = waitpid(pid, &status, 0) }
        release.value = true
        // WIFSIGNALED and WTERMSIG.
        #expect(status & 0x7f == signal, "devenv's wait status \(status)")
        // Give a helper that outlived devenv a moment to show itself, then check it did not.
        usleep(300_000)
        // (The request is JSON, whose slashes may be escaped: match the scratch's own name.)
        let helpers = try Tools.execute("/usr/bin/pgrep", ["-f", "__namespace-helper.*\((fixture.scratch.path as NSString).lastPathComponent)"])
        #expect(helpers.stdout.isEmpty, "a namespace helper outlived devenv: \(helpers.stdout)")
        try Self.expectNothingOfTheBigLayer(puller, fixture, workAllowed: true)

        fixture.clearFaults()
        try Self.expectAGoodPull(puller, fixture)
    }

    /// No name, no blob and no snapshot of layer 0 (and no work directory, unless a killed
    /// process left one: it is never used, the next pull removes it). The other layers'
    /// snapshots may be published: they are verified and complete for their chains.
    static func expectNothingOfTheBigLayer(_ puller: Puller, _ fixture: Fixture, workAllowed: Bool = false,
                                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!puller.hasBlob(fixture.big.digest), sourceLocation: sourceLocation)
        #expect(!puller.names().contains(fixture.repository), "\(puller.names())", sourceLocation: sourceLocation)
        let chainOfLayer0 = fixture.config.chainIDs[0]
        let key = "\(chainOfLayer0.algorithm.rawValue)-\(chainOfLayer0.encoded)"
        #expect(!FileManager.default.fileExists(atPath: "\(puller.snapshots)/\(key)"), sourceLocation: sourceLocation)
        #expect(!puller.markers().contains("\(key).complete"), "\(puller.markers())", sourceLocation: sourceLocation)
        if !workAllowed {
            #expect(puller.leftovers().isEmpty, "\(puller.leftovers())", sourceLocation: sourceLocation)
        }
    }

    /// A pull with no faults succeeds, leaves no work behind and a store `check` finds whole.
    static func expectAGoodPull(_ puller: Puller, _ fixture: Fixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let pulled = try puller.devenv(["pull", fixture.reference])
        #expect(pulled.status == 0, "\(pulled.stderr)", sourceLocation: sourceLocation)
        #expect(puller.markers().count == 3, sourceLocation: sourceLocation)
        #expect(puller.leftovers().isEmpty, "\(puller.leftovers())", sourceLocation: sourceLocation)
        #expect(try puller.tree().contains { $0.contains("/zz/big: 10 644 0:0 \(8 << 20)") }, sourceLocation: sourceLocation)
        let check = try puller.devenv(["check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)", sourceLocation: sourceLocation)
    }
}

/// A proxy rule the test can change while the proxy runs.
final class RuleBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: FaultProxy.Rule = { _, _ in [] }
    var rule: FaultProxy.Rule {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
