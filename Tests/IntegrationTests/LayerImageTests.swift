@testable import DevenvTestSupport
import DevenvOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Images whose layers the test writes itself, imported as an OCI layout and run in a real
/// container (issue 11 items 12 and 16; 2 for the store's permissions).
@Suite(.serialized) struct LayerImageTests {
    /// An OCI image layout directory holding uncompressed tar layers, every digest (layers,
    /// diff_ids, config, manifest) with `algorithm`.
    static func layout(layers: [String], algorithm: Digest.Algorithm, in scratch: Scratch) throws -> String {
        let directory = scratch.file("layout-\(algorithm.rawValue)")
        let blobs = "\(directory)/blobs/\(algorithm.rawValue)"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func put(_ data: Data, _ mediaType: String) throws -> [String: Any] {
            let digest = Digest.of(data, algorithm: algorithm)
            try data.write(to: URL(fileURLWithPath: "\(blobs)/\(digest.encoded)"))
            return ["mediaType": mediaType, "digest": digest.description, "size": data.count]
        }
        var layerDescriptors: [[String: Any]] = []
        var diffIDs: [String] = []
        for layer in layers {
            let data = try Data(contentsOf: URL(fileURLWithPath: layer))
            layerDescriptors.append(try put(data, "application/vnd.oci.image.layer.v1.tar"))
            diffIDs.append(Digest.of(data, algorithm: algorithm).description)
        }
        let config: [String: Any] = [
            "architecture": Platform.host.architecture, "os": "linux",
            "config": ["Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]],
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
        ]
        let configDescriptor = try put(try JSONSerialization.data(withJSONObject: config), "application/vnd.oci.image.config.v1+json")
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": configDescriptor, "layers": layerDescriptors,
        ]
        var manifestDescriptor = try put(try JSONSerialization.data(withJSONObject: manifest), "application/vnd.oci.image.manifest.v1+json")
        manifestDescriptor["annotations"] = ["org.opencontainers.image.ref.name": "latest"]
        let index: [String: Any] = ["schemaVersion": 2, "manifests": [manifestDescriptor]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: "\(directory)/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(directory)/oci-layout"))
        return directory
    }

    /// A usrmerged busybox base: /usr/bin/busybox and its applets, `bin -> usr/bin`,
    /// `lib -> usr/lib` (like Debian since bookworm).
    static func usrmergedBase(in scratch: Scratch) throws -> String {
        let root = try Fixtures.busyboxRoot(in: scratch, name: "usrmerged")
        try FileManager.default.createDirectory(atPath: "\(root)/usr/lib/x86_64-linux-gnu", withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(root)/bin") {
            try FileManager.default.moveItem(atPath: "\(root)/bin/\(name)", toPath: "\(root)/usr/bin/\(name)")
        }
        try FileManager.default.removeItem(atPath: "\(root)/bin")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/bin", withDestinationPath: "usr/bin")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/lib", withDestinationPath: "usr/lib")
        return try tar(root, members: ["."], recursive: true, to: scratch.file("base.tar"))
    }

    /// The upper layer: files below `bin/` and `lib/`, with no entries for those directories
    /// (as hand-made and some tool-made layers are).
    static func filesOnlyLayer(in scratch: Scratch) throws -> String {
        let staging = scratch.file("upper")
        try FileManager.default.createDirectory(atPath: "\(staging)/lib/x86_64-linux-gnu", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(staging)/bin", withIntermediateDirectories: true)
        try "foo\n".write(toFile: "\(staging)/lib/x86_64-linux-gnu/libfoo.so", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho hello from $0\n".write(toFile: "\(staging)/bin/hello", atomically: true, encoding: .utf8)
        chmod("\(staging)/bin/hello", 0o755)
        return try tar(staging, members: ["lib/x86_64-linux-gnu/libfoo.so", "bin/hello"], recursive: false, to: scratch.file("upper.tar"))
    }

    static func tar(_ root: String, members: [String], recursive: Bool, to output: String) throws -> String {
        let result = try DevenvProcess.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner"]
            + (recursive ? [] : ["--no-recursion"]) + ["-C", root, "-cf", output] + members)
        guard result.succeeded else { throw DevenvProcess.Missing(what: "a working tar: \(result.stderr)") }
        return output
    }

    static let script = "cat /lib/x86_64-linux-gnu/libfoo.so /usr/lib/x86_64-linux-gnu/libfoo.so; /bin/hello; test -L /lib && test -L /bin && echo links-kept"
    static let expected = "foo\nfoo\nhello from /bin/hello\nlinks-kept\n"

    /// Item 12, and 16 with sha512: the upper layer lands below the lower layer's symlinks and
    /// /bin/sh still works (before, a real `bin/` hid `bin -> usr/bin`: ENOENT). As root and
    /// as the unprivileged test user.
    @Test(.enabled(if: Requirement.rootAndPrograms("tar"), "needs root (real containers, and to act as the test user) and tar"),
          arguments: [Digest.Algorithm.sha256, .sha512], DevenvUser.allCases)
    func layerOverLowerSymlinksRuns(_ algorithm: Digest.Algorithm, _ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["tar"])
        let scratch = try Scratch("devenv-layers")
        let layout = try Self.layout(layers: [try Self.usrmergedBase(in: scratch), try Self.filesOnlyLayer(in: scratch)],
                                     algorithm: algorithm, in: scratch)
        let runner = try DevenvRunner(user, scratch: scratch)
        let store = runner.store
        let imported = try runner.devenv(["image", "import", layout, "--tag", "localhost/usrmerged:1"])
        #expect(imported.succeeded, "\(imported.stderr)")
        let run = try runner.devenv(["run", "--image", "localhost/usrmerged:1", "--", "/bin/sh", "-c", Self.script], directory: scratch.path)
        #expect(run.succeeded, "\(run.stderr)")
        #expect(run.stdout == Self.expected)
        // The snapshot of the upper layer has no `bin` or `lib` of its own.
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(store)/snapshots").filter { !$0.hasPrefix(".") && !$0.hasSuffix(".complete") }
        #expect(snapshots.count == 2)
        let upper = try #require(snapshots.first { FileManager.default.fileExists(atPath: "\(store)/snapshots/\($0)/usr/bin/hello") })
        #expect(!FileManager.default.fileExists(atPath: "\(store)/snapshots/\(upper)/bin"))
        #expect(!FileManager.default.fileExists(atPath: "\(store)/snapshots/\(upper)/lib"))
        if algorithm == .sha512 { #expect(snapshots.contains { $0.hasPrefix("sha512-") }, "\(snapshots)") }

        // A docker-archive keeps the config's DiffIDs: exported and imported again, it runs.
        let archive = scratch.file("docker-\(algorithm.rawValue).tar")
        let exported = try runner.devenv(["image", "export", "localhost/usrmerged:1", "--output", archive, "--format", "docker"])
        #expect(exported.succeeded, "\(exported.stderr)")
        let fresh = try DevenvRunner(user, scratch: scratch, store: scratch.file("fresh-store"))
        let again = try fresh.devenv(["image", "import", archive, "--tag", "localhost/again:1"])
        #expect(again.succeeded, "\(again.stderr)")
        let rerun = try fresh.devenv(["run", "--image", "localhost/again:1", "--", "/bin/sh", "-c", Self.script], directory: scratch.path)
        #expect(rerun.stdout == Self.expected, "\(rerun.stderr)")
    }

    /// Pulled from a registry (sha512 layer digests and DiffIDs): layers unpacked while they
    /// download have no lower snapshots yet, so the upper one is unpacked again over them.
    @Test(.enabled(if: Requirement.rootAndPrograms("tar", "docker-registry"), "needs root, tar and docker-registry"))
    func pulledLayerOverLowerSymlinksRuns() throws {
        try Requirement.require(root: true, programs: ["tar", "docker-registry"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch("devenv-layers-pull")
        let layout = try Self.layout(layers: [try Self.usrmergedBase(in: scratch), try Self.filesOnlyLayer(in: scratch)],
                                     algorithm: .sha512, in: scratch)
        let name = "\(registry.authority)/layers/usrmerged:1"
        let source = scratch.file("source")
        #expect(try DevenvProcess.devenv(["image", "import", layout, "--tag", name], store: source).succeeded)
        let pushed = try DevenvProcess.devenv(["push", name], store: source)
        #expect(pushed.succeeded, "\(pushed.stderr)")
        let store = scratch.file("store")
        let pulled = try DevenvProcess.devenv(["pull", name], store: store)
        #expect(pulled.succeeded, "\(pulled.stderr)")
        let run = try DevenvProcess.devenv(["run", "--image", name, "--", "/bin/sh", "-c", Self.script], store: store, directory: scratch.path)
        #expect(run.succeeded, "\(run.stderr)")
        #expect(run.stdout == Self.expected)
    }

    /// Item 2, host side: a layer's 0666 block device never becomes a node in the store, and
    /// the snapshots directory admits no other host user (setuid files of images included).
    @Test(.enabled(if: Requirement.rootAndPrograms("tar"), "needs root (mknod, real container) and tar"))
    func layerDeviceNodesNeverReachTheStore() throws {
        try Requirement.require(root: true, programs: ["tar"])
        let scratch = try Scratch("devenv-layers-devices")
        let staging = scratch.file("devices")
        try FileManager.default.createDirectory(atPath: "\(staging)/tmp", withIntermediateDirectories: true)
        for (name, type, major, minor) in [("disk", "b", "7", "1"), ("null", "c", "1", "3")] {
            let made = try DevenvProcess.run("mknod", ["-m", "666", "\(staging)/tmp/\(name)", type, major, minor])
            #expect(made.succeeded, "\(made.stderr)")
        }
        let devices = try Self.tar(staging, members: ["tmp/disk", "tmp/null"], recursive: false, to: scratch.file("devices.tar"))
        let busybox = try Fixtures.busyboxRootfs(in: scratch)
        let layout = try Self.layout(layers: [busybox, devices], algorithm: .sha256, in: scratch)
        let store = scratch.file("store")
        let imported = try DevenvProcess.devenv(["image", "import", layout, "--tag", "localhost/devices:1"], store: store)
        #expect(imported.succeeded, "\(imported.stderr)")
        let run = try DevenvProcess.devenv(["run", "--image", "localhost/devices:1", "--", "/bin/sh", "-c", "test -e /tmp/disk || echo absent"],
                                           store: store, directory: scratch.path)
        #expect(run.succeeded, "\(run.stderr)")
        #expect(run.stdout == "absent\n")
        let nodes = try DevenvProcess.run("find", ["\(store)/snapshots", "(", "-type", "b", "-o", "-type", "c", ")", "-print"])
        #expect(nodes.succeeded && nodes.stdout.isEmpty, "device nodes in the store: \(nodes.stdout)")
        var info = stat()
        #expect(stat("\(store)/snapshots", &info) == 0)
        #expect(info.st_mode & 0o077 == 0, "snapshots/ is reachable by other users: \(String(info.st_mode & 0o7777, radix: 8))")
    }
}
