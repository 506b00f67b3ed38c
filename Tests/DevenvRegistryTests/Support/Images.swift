@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation

/// The registry tests never unpack: pulling stores blobs, `ImageStore.mount` unpacks later.
struct NoUnpacker: LayerUnpacking {
    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        throw TestFailure("the registry tests do not unpack layers")
    }
}

enum Images {
    static func store(_ scratch: Scratch, _ name: String = "store") throws -> ImageStore {
        try ImageStore(root: scratch.file(name), unpacker: NoUnpacker())
    }

    static func randomData(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for index in words.indices { words[index] = generator.next() }
            for index in (words.count * 8)..<count { raw[index] = UInt8.random(in: 0...255) }
        }
        return data
    }

    /// An image whose layers are random bytes declared as gzip tar (the registry and the
    /// client never look inside); diff_ids are stand-ins of the right count.
    static func random(in store: ImageStore, name: String, layerSizes: [Int], platform: Platform = .host) throws -> StoredImage {
        var layers: [Descriptor] = []
        var diffIDs: [Digest] = []
        for size in layerSizes {
            let data = randomData(size)
            layers.append(try store.content.put(data, mediaType: MediaType.layerTarGzip))
            diffIDs.append(Digest.sha256(Data("diff-\(layers.count)".utf8) + data.prefix(64)))
        }
        let config = ImageConfig(platform: platform, config: ImageConfig.RunConfig(cmd: ["/bin/sh"]), diffIDs: diffIDs)
        return try store.commitImage(name: name, config: config, layers: layers)
    }

    /// A runnable busybox image: one gzip layer made from a busybox-static root.
    static func busybox(in store: ImageStore, scratch: Scratch, name: String) throws -> StoredImage {
        let root = scratch.file("busybox-root")
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let busybox else { throw TestFailure("missing busybox-static (apt-get install busybox-static)") }
        for directory in ["bin", "etc", "tmp", "root", "proc", "sys", "dev"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: busybox, toPath: "\(root)/bin/busybox")
        for applet in ["sh", "echo", "cat", "ls", "true"] {
            try FileManager.default.createSymbolicLink(atPath: "\(root)/bin/\(applet)", withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: "\(root)/etc/passwd", atomically: true, encoding: .utf8)
        let tar = scratch.file("busybox.tar")
        try Tools.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tar, "."])
        try Tools.run("gzip", ["-n", "-k", "-f", tar])
        let tarData = try Data(contentsOf: URL(fileURLWithPath: tar))
        let layer = try store.content.put(try Data(contentsOf: URL(fileURLWithPath: tar + ".gz")), mediaType: MediaType.layerTarGzip)
        let config = ImageConfig(config: ImageConfig.RunConfig(env: ["PATH=/bin"], cmd: ["/bin/sh"]), diffIDs: [Digest.sha256(tarData)])
        return try store.commitImage(name: name, config: config, layers: [layer])
    }
}

extension RegistryConfiguration {
    /// Short timeouts and delays so fault cases finish quickly; no credentials unless given.
    static func testing(credentials: [String: Credentials] = [:], insecure: Set<String> = []) -> RegistryConfiguration {
        var configuration = RegistryConfiguration(hosts: RegistryHosts(insecure: insecure), credentials: StaticCredentials(credentials))
        configuration.timeouts.response = 5
        configuration.timeouts.idle = 5
        configuration.timeouts.lowSpeedWindow = 5
        configuration.timeouts.document = 10
        configuration.retry.baseDelay = 0.02
        configuration.retry.maxDelay = 0.1
        configuration.retry.maxRetryAfter = 0.3
        return configuration
    }
}

/// Collects transfer events from the client's worker threads.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [TransferEvent] = []

    func record(_ event: TransferEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    var all: [TransferEvent] {
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    var skips: [TransferEvent.Skip] {
        all.compactMap { if case let .skipped(_, how) = $0 { return how }; return nil }
    }

    var retries: Int {
        all.filter { if case .retrying = $0 { return true }; return false }.count
    }
}
