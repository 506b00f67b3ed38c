import DevenvOCI
import DevenvStore
import Foundation
import Testing

/// What the store hands the unpacker: the snapshots below each layer (issue 11 item 12: a
/// layer's parent paths resolve through them) and the diff_id's algorithm (item 16).
@Suite struct SnapshotTargetTests {
    /// Records every target; the DiffID is the blob's digest with the requested algorithm.
    final class RecordingUnpacker: LayerUnpacking, @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [UnpackTarget] = []

        var targets: [UnpackTarget] {
            lock.lock()
            defer { lock.unlock() }
            return recorded
        }

        func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
            lock.lock()
            recorded.append(target)
            lock.unlock()
            let data = FileManager.default.contents(atPath: path) ?? Data()
            try data.write(to: URL(fileURLWithPath: "\(target.directory)/content"))
            return Digest.of(data, algorithm: target.diffIDAlgorithm)
        }
    }

    @Test(arguments: [Digest.Algorithm.sha256, .sha512])
    func eachLayerIsUnpackedOverTheSnapshotsBelowIt(_ algorithm: Digest.Algorithm) throws {
        let unpacker = RecordingUnpacker()
        let fixture = try StoreFixture(unpacker: unpacker)
        let layers = try ["base", "middle", "top"].map(fixture.layer)
        let diffIDs = try ["base", "middle", "top"].map { Digest.of(Data($0.utf8), algorithm: algorithm) }
        let config = ImageConfig(platform: .host, diffIDs: diffIDs)
        let image = try fixture.store.commitImage(name: "localhost/lowers:1", config: config, layers: layers)
        let (dirs, _) = try fixture.store.mount(image)
        let snapshots = config.chainIDs.map { fixture.store.snapshots.path(for: $0) }
        #expect(dirs == snapshots.reversed())
        #expect(unpacker.targets.map(\.lowers) == [[], [snapshots[0]], [snapshots[1], snapshots[0]]])
        #expect(unpacker.targets.allSatisfy { $0.diffIDAlgorithm == algorithm })
        // OCI image-spec: ChainID(L0) = DiffID(L0); above it, sha256 of "parent diffID" (containerd's choice).
        #expect(config.chainIDs[0] == diffIDs[0])
        #expect(config.chainIDs[1] == Digest.sha256(Data("\(diffIDs[0]) \(diffIDs[1])".utf8)))
    }

    /// A sha512 diff_id still has to match: a layer whose content differs is refused.
    @Test func aWrongSHA512DiffIDIsStillRefused() throws {
        let fixture = try StoreFixture(unpacker: RecordingUnpacker())
        let layer = try fixture.layer("content")
        let config = ImageConfig(platform: .host, diffIDs: [Digest.of(Data("other".utf8), algorithm: .sha512)])
        let image = try fixture.store.commitImage(name: "localhost/wrong:1", config: config, layers: [layer])
        #expect(throws: StoreError.self) { try fixture.store.mount(image) }
        #expect(fixture.store.snapshots.list().markers.isEmpty)
    }

    /// An embedded `data` field of a sha512 descriptor is verified too (it was skipped).
    @Test func embeddedDataOfASHA512DescriptorIsVerified() throws {
        let bytes = Data("payload".utf8)
        var descriptor = Descriptor(mediaType: MediaType.layerTar, digest: Digest.of(bytes, algorithm: .sha512), size: Int64(bytes.count))
        descriptor.data = bytes.base64EncodedString()
        try descriptor.validate(context: "test")
        descriptor.data = Data("PAYLOAD".utf8).base64EncodedString()
        #expect(throws: OCIError.self) { try descriptor.validate(context: "test") }
    }
}

/// Issue 11 item 2: snapshots are host trees (setuid binaries, device-free but still
/// private); no other host user may reach them, in a new store or an older, laxer one.
@Suite struct StorePermissionTests {
    @Test func treeDirectoriesAreOwnerOnly() throws {
        let root = NSTemporaryDirectory() + "devenv-store-perm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/snapshots", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        _ = try ImageStore(root: root, unpacker: FakeUnpacker())
        for name in ["snapshots", "tmp"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(root)/\(name)")[.posixPermissions] as? Int
            #expect(mode == 0o700, "\(name): \(String(mode ?? -1, radix: 8))")
        }
    }
}
