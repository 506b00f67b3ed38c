@testable import DevenvTestSupport
import Foundation
import Testing

/// `devenv image …` and `devenv gc` end to end, through the real binary and real peers
/// (podman, skopeo, umoci) for interoperability.
@Suite(.serialized) struct ImageCommandTests {
    @Test func importListInspectRemoveAndGC() throws {
        let scratch = try Scratch()
        let store = scratch.file("store")
        let tarball = try Fixtures.busyboxRootfs(in: scratch)

        let imported = try DevenvProcess.devenv(["image", "import", tarball, "--tag", "busybox:test"], store: store)
        #expect(imported.succeeded, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("busybox:test sha256:"))

        let list = try DevenvProcess.devenv(["image", "ls", "--json"], store: store)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1)
        #expect(rows?.first?["name"] as? String == "busybox:test")
        #expect(rows?.first?["layers"] as? Int == 1)

        let inspect = try DevenvProcess.devenv(["image", "inspect", "busybox:test"], store: store)
        #expect(inspect.stdout.contains("application/vnd.oci.image.layer.v1.tar+zstd"))
        #expect(inspect.stdout.contains("diff_id sha256:"))

        // The same tarball gives the same layer: imports are deterministic.
        let again = try DevenvProcess.devenv(["image", "import", tarball, "--tag", "busybox:again"], store: store)
        let layerOf = { (name: String) throws -> String in
            let json = try DevenvProcess.devenv(["image", "inspect", name, "--json"], store: store).stdout
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            let manifest = object?["manifest"] as? [String: Any]
            return ((manifest?["layers"] as? [[String: Any]])?.first?["digest"] as? String) ?? ""
        }
        #expect(again.succeeded)
        #expect(try layerOf("busybox:test") == layerOf("busybox:again"))

        #expect(try DevenvProcess.devenv(["image", "rm", "busybox:test", "busybox:again"], store: store).succeeded)
        // The two imports share their layer; their configs (and so manifests) differ when
        // the clock ticked between them: every blob present is unreferenced now.
        let present = try FileManager.default.contentsOfDirectory(atPath: "\(store)/blobs/sha256").count
        #expect(present == 3 || present == 5)
        let dry = try DevenvProcess.devenv(["gc", "--dry-run"], store: store)
        #expect(dry.stdout.contains("would remove \(present) blobs"), "\(dry.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store)/blobs/sha256").count == present, "a dry run removes nothing")
        let gc = try DevenvProcess.devenv(["gc"], store: store)
        #expect(gc.stdout.contains("removed \(present) blobs"), "\(gc.stdout)")
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(store)/blobs/sha256")
        #expect(blobs.isEmpty)
    }

    @Test func missingImageIsAClearError() throws {
        let scratch = try Scratch()
        let result = try DevenvProcess.devenv(["image", "inspect", "nope:1"], store: scratch.file("store"))
        #expect(result.status == 66)
        #expect(result.stderr.contains("image 'nope:1' not found"))
        #expect(result.stderr.contains("hint:"))
    }

    @Test func garbageInputIsRejectedWithoutStoringAnything() throws {
        let scratch = try Scratch()
        let store = scratch.file("store")
        let junk = scratch.file("junk.tar")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: junk))
        let result = try DevenvProcess.devenv(["image", "import", junk, "--tag", "junk"], store: store)
        #expect(result.status == 125)
        #expect(result.stderr.contains("junk.tar"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store)/blobs/sha256").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store)/ingest").isEmpty)
    }

    /// Names are kept in index.json; concurrent writers must never lose an update or tear the file.
    @Test func concurrentImportsKeepEveryName() throws {
        let scratch = try Scratch()
        let store = scratch.file("store")
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        _ = try DevenvProcess.devenv(["image", "ls"], store: store)
        let processes: [Process] = try (0..<8).map { number in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try DevenvProcess.binary)
            process.arguments = ["image", "import", tarball, "--tag", "parallel:\(number)", "--store", store]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let list = try DevenvProcess.devenv(["image", "ls", "--json"], store: store)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(Set(rows?.compactMap { $0["name"] as? String } ?? []) == Set((0..<8).map { "parallel:\($0)" }))
    }

    /// The store is an OCI layout that skopeo and umoci read directly.
    @Test(.enabled(if: Requirement.programs("skopeo", "umoci")))
    func storeIsReadableBySkopeoAndUmoci() throws {
        try Requirement.require(programs: ["skopeo", "umoci"])
        let scratch = try Scratch()
        let store = scratch.file("store")
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", "localhost/bb:1"], store: store).succeeded)
        let skopeo = try DevenvProcess.run("skopeo", ["inspect", "oci:\(store):localhost/bb:1"])
        #expect(skopeo.succeeded, "\(skopeo.stderr)")
        #expect(skopeo.stdout.contains("\"Layers\""))
        let umoci = try DevenvProcess.run("umoci", ["stat", "--image", "\(store):localhost/bb:1"])
        #expect(umoci.succeeded, "\(umoci.stderr)")
    }

    /// Export to both archive formats, load with podman, run there; import podman's own
    /// docker-archive and skopeo's OCI layout back.
    @Test(.enabled(if: Requirement.rootAndPrograms("podman", "skopeo")))
    func interoperatesWithPodmanAndSkopeo() throws {
        try Requirement.require(root: true, programs: ["podman", "skopeo"])
        let scratch = try Scratch()
        let store = scratch.file("store")
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        let name = "localhost/devenv-it-\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = try? DevenvProcess.run("podman", ["rmi", "-f", "\(name):oci", "\(name):docker", "\(name):gzip"]) }
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", "\(name):oci"], store: store).succeeded)

        for format in ["oci", "docker"] {
            let archive = scratch.file("export-\(format).tar")
            let tag = "\(name):\(format)"
            if format == "docker" {
                #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", tag], store: store).succeeded)
            }
            let export = try DevenvProcess.devenv(["image", "export", tag, "-o", archive, "--format", format], store: store)
            #expect(export.succeeded, "\(export.stderr)")
            let load = try DevenvProcess.run("podman", ["load", "-i", archive])
            #expect(load.succeeded, "\(load.stderr)")
            let run = try DevenvProcess.run("podman", ["run", "--rm", "--pull=never", tag, "/bin/sh", "-c", "echo ran-in-podman"])
            #expect(run.stdout.contains("ran-in-podman"), "\(run.stderr)")
        }

        // podman's docker-archive back into devenv. podman cannot write zstd layers into a
        // docker archive, so this image is imported with gzip layers.
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", "\(name):gzip", "--compression", "gzip"], store: store).succeeded)
        #expect(try DevenvProcess.devenv(["image", "export", "\(name):gzip", "-o", scratch.file("gzip.tar")], store: store).succeeded)
        #expect(try DevenvProcess.run("podman", ["load", "-i", scratch.file("gzip.tar")]).succeeded)
        let saved = scratch.file("podman-save.tar")
        let save = try DevenvProcess.run("podman", ["save", "--format", "docker-archive", "-o", saved, "\(name):gzip"])
        #expect(save.succeeded, "\(save.stderr)")
        let fromPodman = try DevenvProcess.devenv(["image", "import", saved, "--tag", "from-podman"], store: store)
        #expect(fromPodman.succeeded, "\(fromPodman.stderr)")

        // skopeo's OCI layout directory back into devenv.
        let layout = scratch.file("layout")
        #expect(try DevenvProcess.run("skopeo", ["copy", "oci-archive:\(scratch.file("export-oci.tar"))", "oci:\(layout):x"]).succeeded)
        // Into a fresh store, so every blob really comes from the layout.
        let fresh = scratch.file("fresh-store")
        let fromSkopeo = try DevenvProcess.devenv(["image", "import", layout, "--tag", "from-skopeo"], store: fresh)
        #expect(fromSkopeo.succeeded, "\(fromSkopeo.stderr)")
        #expect(try DevenvProcess.devenv(["image", "ls"], store: fresh).stdout.contains("from-skopeo"))
    }

    /// Content integrity through an archive: a blob whose bytes do not match its name.
    @Test func tamperedOCIArchiveIsRejected() throws {
        let scratch = try Scratch()
        let store = scratch.file("store")
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", "src"], store: store).succeeded)
        let archive = scratch.file("src.tar")
        #expect(try DevenvProcess.devenv(["image", "export", "src", "-o", archive], store: store).succeeded)
        let unpacked = scratch.file("unpacked")
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        #expect(try DevenvProcess.run("tar", ["-xf", archive, "-C", unpacked]).succeeded)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(unpacked)/blobs/sha256")
        let largest = try blobs.max { a, b in
            let sizeA = try FileManager.default.attributesOfItem(atPath: "\(unpacked)/blobs/sha256/\(a)")[.size] as? Int ?? 0
            let sizeB = try FileManager.default.attributesOfItem(atPath: "\(unpacked)/blobs/sha256/\(b)")[.size] as? Int ?? 0
            return sizeA < sizeB
        }!
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: "\(unpacked)/blobs/sha256/\(largest)"))
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([0xff, 0x00, 0xff]))
        try handle.close()
        let tampered = scratch.file("tampered.tar")
        #expect(try DevenvProcess.run("tar", ["-cf", tampered, "-C", unpacked, "."]).succeeded)

        let other = scratch.file("other-store")
        let result = try DevenvProcess.devenv(["image", "import", tampered, "--tag", "evil"], store: other)
        #expect(result.status == 125)
        #expect(result.stderr.contains("digest mismatch"))
        #expect(result.stderr.contains(largest))
        #expect(!FileManager.default.fileExists(atPath: "\(other)/blobs/sha256/\(largest)"))
    }
}
