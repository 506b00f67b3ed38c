@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import DevenvSystem
import Foundation
import Testing

/// Partial downloads survive a failed pull and the next pull resumes them, through the fault proxy in
/// front of the real registry; and layers are unpacked while they download, published only for verified blobs.
@Suite struct ResumeTests {
    /// One failed attempt per pull: the pull gives up where the connection dropped.
    static func oneAttempt() -> RegistryConfiguration {
        var configuration = RegistryConfiguration.testing()
        configuration.retry.maxAttempts = 1
        return configuration
    }

    /// A first pull that dies after 3 MiB of the 8 MiB layer (the proxy drops it while `dropping`).
    static func interruptedSetup(_ dropping: FlagBox) throws -> FaultTests.Setup {
        let box = DigestBox()
        let setup = try FaultTests.Setup(layerSizes: [8 << 20]) { request, _ in
            guard let layer = box.value, isLayerGET(request, layer), dropping.value else { return [] }
            return [.dropAfter(bytes: 3 << 20, .reset)]
        }
        box.value = setup.layer.digest
        #expect(throws: RegistryError.self) { try RegistryClient(configuration: oneAttempt()).pull(try setup.viaProxy, into: setup.target) }
        try setup.expectNothingStored(partialKept: true)
        return setup
    }

    static func layerRanges(_ setup: FaultTests.Setup) -> [String?] {
        setup.proxy.requests("GET", "/blobs/\(setup.layer.digest)").map { $0["range"] }
    }

    @Test func nextPullRequestsOnlyTheRemainderOfAKeptPartial() throws {
        let dropping = FlagBox(true)
        let setup = try Self.interruptedSetup(dropping)
        let partial = try FileManager.default.attributesOfItem(atPath: setup.target.content.ingestPath(for: setup.layer.digest))[.size] as? Int64 ?? 0
        #expect(partial == 3 << 20)
        dropping.value = false
        let log = EventLog()
        let pulled = try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target, progress: log.record)
        #expect(pulled.manifestDescriptor.digest == setup.image.manifestDescriptor.digest)
        let ranges = Self.layerRanges(setup)
        #expect(ranges.count == 2)
        #expect(ranges.last == "bytes=\(partial)-\(setup.layer.size - 1)", "\(ranges)")
        // The blob is complete and verified, and no ingest is left behind.
        #expect(try setup.target.content.read(setup.layer.digest, limit: setup.layer.size).count == Int(setup.layer.size))
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.target.layout.ingest).isEmpty)
        let resumedAt = log.all.compactMap { event -> Int64? in
            if case let .progress(blob, completed) = event, blob.digest == setup.layer.digest { return completed }
            return nil
        }.first
        #expect(resumedAt == partial, "progress starts at the kept bytes")
    }

    @Test func corruptKeptPartialFailsVerificationIsDiscardedAndReported() throws {
        let dropping = FlagBox(true)
        let setup = try Self.interruptedSetup(dropping)
        let partial = setup.target.content.ingestPath(for: setup.layer.digest)
        let handle = FileHandle(forUpdatingAtPath: partial)!
        try handle.seek(toOffset: 1000)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data([byte ^ 0x5a]))
        try handle.close()
        dropping.value = false

        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.kind == .digestMismatch)
        let text = error?.description ?? ""
        #expect(text.contains("expected \(setup.layer.digest)"), "\(text)")
        #expect(text.contains("resumed at byte \(3 << 20) from a partial download kept by an earlier pull"), "\(text)")
        #expect(text.contains("the content was discarded"), "\(text)")
        try setup.expectNothingStored()
        // The rerun starts from zero and succeeds.
        let pulled = try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target)
        #expect(pulled.manifest.layers == setup.image.manifest.layers)
        #expect(Self.layerRanges(setup).last == .some(nil), "a whole-blob request after the discard")
    }

    @Test func gcRemovesAKeptPartial() throws {
        let dropping = FlagBox(true)
        let setup = try Self.interruptedSetup(dropping)
        let report = try GarbageCollector(store: setup.target).collect(dryRun: false)
        #expect(report.removedTemporary == [setup.target.content.ingestPath(for: setup.layer.digest)])
        try setup.expectNothingStored()
    }

    @Test func concurrentPullsOfOneBlobDownloadItOnce() throws {
        let box = DigestBox()
        let shared = FlagBox(false)
        // The layer response waits until the other pull is waiting for the same blob, so the
        // pulls overlap however loaded the machine is (a fixed delay did not, under CI load).
        let setup = try FaultTests.Setup(layerSizes: [4 << 20]) { request, _ in
            guard let layer = box.value, isLayerGET(request, layer) else { return [] }
            let deadline = Date().addingTimeInterval(20)
            while !shared.value, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            return []
        }
        box.value = setup.layer.digest
        let failures = FlagBox(false)
        let reference = try setup.viaProxy
        let target = setup.target
        let layer = setup.layer.digest
        let group = DispatchGroup()
        for _ in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                // Separate clients, as two processes would be.
                do {
                    _ = try RegistryClient(configuration: .testing()).pull(reference, into: target) { event in
                        if case let .sharing(blob) = event, blob.digest == layer { shared.value = true }
                    }
                } catch {
                    failures.value = true
                }
            }
        }
        group.wait()
        #expect(!failures.value)
        // The pull that waited said so (the progress display shows it).
        #expect(shared.value)
        #expect(setup.proxy.count("GET", "/blobs/\(setup.layer.digest)") == 1)
        #expect(setup.target.content.contains(setup.layer.digest))
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.target.layout.ingest).isEmpty)
    }

    // MARK: unpack while downloading

    /// A store whose unpacker copies the blob bytes as they arrive and reports their
    /// SHA-256 as the DiffID, so the test image's diff_ids can be right without tar files.
    static func streamingStore(_ setup: FaultTests.Setup, _ unpacker: CopyUnpacker) throws -> ImageStore {
        try ImageStore(root: setup.scratch.file("streaming-\(UUID().uuidString.prefix(6))"), unpacker: unpacker)
    }

    static func copyImageSetup(rule: @escaping FaultProxy.Rule) throws -> (FaultTests.Setup, Reference) {
        let setup = try FaultTests.Setup(layerSizes: [2 << 20], rule: rule)
        // Re-tag with diff_ids that are the layers' own digests (what CopyUnpacker returns).
        let source = try Images.store(setup.scratch, "source")
        let config = ImageConfig(platform: .host, config: ImageConfig.RunConfig(cmd: ["/bin/sh"]),
                                 diffIDs: setup.image.manifest.layers.map(\.digest))
        let image = try source.commitImage(name: "copy", config: config, layers: setup.image.manifest.layers)
        try RegistryClient(configuration: .testing()).push(image, from: source, to: try Reference(parsing: "\(setup.registry.authority)/\(setup.repository):copy"))
        return (setup, try Reference(parsing: "\(setup.proxy.authority)/\(setup.repository):copy"))
    }

    @Test func layersAreUnpackedWhileTheyDownload() throws {
        let (setup, reference) = try Self.copyImageSetup { _, _ in [] }
        let unpacker = CopyUnpacker()
        let store = try Self.streamingStore(setup, unpacker)
        let pulled = try RegistryClient(configuration: .testing()).pull(reference, into: store, unpack: true)
        let chainID = pulled.config.chainIDs[0]
        #expect(store.snapshots.isComplete(chainID, diffID: pulled.config.rootfs.diffIDs[0]), "the snapshot is complete right after the pull")
        #expect(unpacker.streamed == 1)
        let copied = try Data(contentsOf: URL(fileURLWithPath: store.snapshots.path(for: chainID) + "/blob"))
        #expect(Digest.sha256(copied) == setup.layer.digest)
        #expect(store.snapshots.list().work.isEmpty)
    }

    @Test func aSnapshotIsNeverPublishedForABlobThatFailsVerification() throws {
        let box = DigestBox()
        let (setup, reference) = try Self.copyImageSetup { request, _ in
            guard let layer = box.value, isLayerGET(request, layer) else { return [] }
            return [.flipByte(at: 5000)]
        }
        box.value = setup.layer.digest
        let unpacker = CopyUnpacker()
        let store = try Self.streamingStore(setup, unpacker)
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(reference, into: store, unpack: true) }
        #expect(error?.kind == .digestMismatch)
        #expect(unpacker.streamed == 1, "the unpack started, and was thrown away")
        #expect(store.snapshots.list().directories.isEmpty)
        #expect(store.snapshots.list().work.isEmpty)
    }
}

/// Copies a layer blob into `<directory>/blob` while it downloads; its DiffID is the
/// digest of the bytes it read.
final class CopyUnpacker: LayerUnpacking, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var streamed: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.write(to: URL(fileURLWithPath: target.directory + "/blob"))
        return Digest.sha256(data)
    }

    func unpack(growing layer: GrowingFile, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        lock.lock()
        count += 1
        lock.unlock()
        let reader = try layer.reader()
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let got = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if got == 0 { break }
            data.append(contentsOf: buffer[..<got])
        }
        try data.write(to: URL(fileURLWithPath: target.directory + "/blob"))
        return Digest.sha256(data)
    }
}

final class FlagBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
