@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation
import Testing

/// Transport faults (corrupt bytes, lying headers, drops, stalls) through a fault-injecting proxy
/// in front of the real registry. Each
/// case ends in a clear error or a correct resume, with nothing unverified in the store.
@Suite struct FaultTests {
    /// A registry holding one image, a proxy in front of it, and a fresh target store.
    final class Setup {
        let registry: TestRegistry
        let proxy: FaultProxy
        let scratch: Scratch
        let image: StoredImage
        let target: ImageStore
        let repository = "team/app"

        init(layerSizes: [Int] = [3 << 20], rule: @escaping FaultProxy.Rule) throws {
            registry = try TestRegistry()
            proxy = try FaultProxy(upstream: registry.port, rule: rule)
            scratch = try Scratch()
            let source = try Images.store(scratch, "source")
            image = try Images.random(in: source, name: "local", layerSizes: layerSizes)
            try RegistryClient(configuration: .testing()).push(image, from: source, to: try Reference(parsing: "\(registry.authority)/\(repository):1"))
            target = try Images.store(scratch, "target")
        }

        deinit {
            proxy.stop()
            registry.stop()
        }

        var viaProxy: Reference { get throws { try Reference(parsing: "\(proxy.authority)/\(repository):1") } }
        var direct: Reference { get throws { try Reference(parsing: "\(registry.authority)/\(repository):1") } }
        var layer: Descriptor { image.manifest.layers[0] }

        /// Nothing unverified became visible: no name, no layer blob, and in the ingest area
        /// at most the layer's partial download (kept for the next pull) when `partialKept`.
        func expectNothingStored(partialKept: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try target.references.list().isEmpty, sourceLocation: sourceLocation)
            #expect(!target.content.contains(layer.digest), sourceLocation: sourceLocation)
            let ingest = try FileManager.default.contentsOfDirectory(atPath: target.layout.ingest)
            let partial = target.content.ingestPath(for: layer.digest)
            #expect(ingest == (partialKept ? [(partial as NSString).lastPathComponent] : []), "\(ingest)", sourceLocation: sourceLocation)
            if partialKept {
                let size = try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int64 ?? 0
                #expect(size > 0 && size < layer.size, "partial of \(size) bytes", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: A1

    @Test(arguments: [false, true])
    func flippedByteIsRejectedEvenWithAMatchingDigestHeader(lyingHeader: Bool) throws {
        let box = DigestBox()
        let setup = try Setup { request, _ in
            guard let layer = box.value, isLayerGET(request, layer) else { return [] }
            return [.flipByte(at: 1000)] + (lyingHeader ? [.header("Docker-Content-Digest", layer.description)] : [])
        }
        box.value = setup.layer.digest
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.kind == .digestMismatch)
        #expect(error?.description.contains("expected \(setup.layer.digest)") == true, "\(String(describing: error))")
        #expect(error?.description.contains(", got sha256:") == true)
        try setup.expectNothingStored()
        // A good registry afterwards works without cleanup.
        let pulled = try RegistryClient(configuration: .testing()).pull(try setup.direct, into: setup.target)
        #expect(pulled.manifestDescriptor.digest == setup.image.manifestDescriptor.digest)
    }

    // MARK: A2

    @Test(arguments: [FaultProxy.Drop.reset, .fin, .chunkedEarly])
    func droppedTwiceThenResumedWithRange(drop: FaultProxy.Drop) throws {
        let box = DigestBox()
        let setup = try Setup { request, count in
            guard let layer = box.value, isLayerGET(request, layer), count <= 2 else { return [] }
            return [.dropAfter(bytes: 1 << 20, drop)]
        }
        box.value = setup.layer.digest
        let log = EventLog()
        let pulled = try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target, progress: log.record)
        #expect(pulled.manifestDescriptor.digest == setup.image.manifestDescriptor.digest)
        #expect(log.retries == 2)
        let ranges = setup.proxy.requests("GET", "/blobs/\(setup.layer.digest)").map { $0["range"] }
        #expect(ranges.count == 3)
        #expect(ranges.last == "bytes=2097152-\(setup.layer.size - 1)", "resumed after 2 x 1 MiB: \(ranges)")
    }

    @Test func serverIgnoringRangeRestartsFromZero() throws {
        let box = DigestBox()
        let setup = try Setup { request, count in
            guard let layer = box.value, isLayerGET(request, layer) else { return [] }
            return count == 1 ? [.dropAfter(bytes: 1 << 20, .reset)] : [.ignoreRange]
        }
        box.value = setup.layer.digest
        let pulled = try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target)
        #expect(pulled.manifest.layers == setup.image.manifest.layers)
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.target.layout.ingest).isEmpty)
    }

    @Test func droppedForeverGivesUpCleanly() throws {
        let box = DigestBox()
        // 8 MiB: five attempts of 1 MiB each cannot complete it.
        let setup = try Setup(layerSizes: [8 << 20]) { request, _ in
            guard let layer = box.value, isLayerGET(request, layer) else { return [] }
            return [.dropAfter(bytes: 1 << 20, .reset)]
        }
        box.value = setup.layer.digest
        let log = EventLog()
        let error = expectError(RegistryError.self) {
            try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target, progress: log.record)
        }
        #expect(error?.description.contains("gave up after 5 failed attempts") == true, "\(String(describing: error))")
        #expect(!log.all.contains { if case let .finished(blob) = $0 { return blob.digest == setup.layer.digest }; return false })
        try setup.expectNothingStored(partialKept: true)
    }

    // MARK: A3

    @Test func manifestThatDoesNotHashToTheRequestedDigestIsRejected() throws {
        let box = DigestBox()
        let other = OCIDocument.encode(ImageManifest(config: Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(Data("x".utf8)), size: 1), layers: []))
        let setup = try Setup(layerSizes: [1000]) { request, _ in
            guard let digest = box.value, request.path.hasSuffix("/manifests/\(digest)") else { return [] }
            return [.respond(status: 200, headers: ["Content-Type": MediaType.imageManifest, "Docker-Content-Digest": digest.description], body: other)]
        }
        box.value = setup.image.manifestDescriptor.digest
        let pinned = try Reference(parsing: "\(setup.proxy.authority)/\(setup.repository)@\(setup.image.manifestDescriptor.digest)")
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(pinned, into: setup.target) }
        #expect(error?.kind == .digestMismatch)
        #expect(error?.description.contains("hashes to \(Digest.sha256(other))") == true, "\(String(describing: error))")
    }

    @Test(arguments: [
        ("index-as-manifest", MediaType.imageManifest, #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#, "differs from the document's mediaType"),
        ("ambiguous", "application/json", #"{"schemaVersion":2,"manifests":[],"layers":[]}"#, "ambiguous"),
        ("schema1", MediaType.dockerSchema1Signed, #"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#, "Docker schema 1 is not supported"),
    ])
    func confusingManifestsAreRejected(name: String, contentType: String, body: String, message: String) throws {
        let setup = try Setup(layerSizes: [1000]) { request, _ in
            request.path.hasSuffix("/manifests/1") ? [.respond(status: 200, headers: ["Content-Type": contentType], body: Data(body.utf8))] : []
        }
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.description.contains(message) == true, "\(name): \(String(describing: error))")
        #expect(try setup.target.references.list().isEmpty)
    }

    // MARK: A4, A5, A7

    static func manifest(layers: [Descriptor], config: Descriptor? = nil) -> Data {
        let config = config ?? Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(Data("config".utf8)), size: 100)
        return OCIDocument.encode(ImageManifest(config: config, layers: layers))
    }

    static func layer(_ index: Int, size: Int64 = 1000, mediaType: String = MediaType.layerTarGzip) -> Descriptor {
        Descriptor(mediaType: mediaType, digest: Digest.sha256(Data("layer-\(index)".utf8)), size: size)
    }

    static var hostileManifests: [(String, Data, String)] {
        var foreign = layer(1, mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
        foreign.urls = ["https://example.invalid/layer.tar.gz"]
        var lyingData = layer(2, size: 4)
        lyingData.data = Data("abcd".utf8).base64EncodedString()
        let huge = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(Data("c".utf8)), size: 107_374_182_400)
        return [
            ("10000 layers", manifest(layers: (0..<10_000).map { layer($0) }), "10000 layers exceed devenv's limit of 125"),
            ("10000 identical layers", manifest(layers: Array(repeating: layer(0), count: 10_000)), "exceed devenv's limit of 125"),
            ("5 MiB manifest", manifest(layers: [layer(0)]).dropLast() + Data(",\"annotations\":{\"pad\":\"\(String(repeating: "x", count: 5 << 20))\"}}".utf8), "larger than the limit of 4194304 bytes"),
            ("negative size", manifest(layers: [layer(0, size: -1)]), "negative size -1"),
            ("Int64.max size", manifest(layers: [layer(0, size: .max)]), "over devenv's limit"),
            ("100 GB config", manifest(layers: [layer(0)], config: huge), "over the limit of 4194304"),
            ("data field mismatch", manifest(layers: [lyingData]), "'data' field that does not match"),
            ("unknown layer type", manifest(layers: [layer(0, mediaType: "application/x-foo")]), "unsupported media type 'application/x-foo'"),
            ("foreign layer", manifest(layers: [foreign]), "non-distributable"),
        ]
    }

    @Test func hostileManifestsAreRefusedBeforeAnyBlobIsFetched() throws {
        let cases = Self.hostileManifests
        let box = CaseBox()
        let setup = try Setup(layerSizes: [1000]) { request, _ in
            request.path.hasSuffix("/manifests/1") ? [.respond(status: 200, headers: ["Content-Type": MediaType.imageManifest], body: box.body)] : []
        }
        for (name, body, message) in cases {
            box.body = body
            let error = expectError(RegistryError.self) {
                try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target)
            }
            #expect(error?.description.contains(message) == true, "\(name): \(String(describing: error).prefix(400))")
        }
        #expect(setup.proxy.count("GET", "/blobs/") == 0, "nothing downloaded")
        #expect(try setup.target.references.list().isEmpty)
    }

    @Test func configWithTheWrongNumberOfDiffIDsIsRefusedBeforeLayers() throws {
        let layers = [Self.layer(1), Self.layer(2)]
        let config = OCIDocument.encode(ImageConfig(diffIDs: [Digest.sha256(Data("a".utf8)), Digest.sha256(Data("b".utf8)), Digest.sha256(Data("c".utf8))]))
        let configDescriptor = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(config), size: Int64(config.count))
        let manifest = Self.manifest(layers: layers, config: configDescriptor)
        let setup = try Setup(layerSizes: [1000]) { request, _ in
            if request.path.hasSuffix("/manifests/1") {
                return [.respond(status: 200, headers: ["Content-Type": MediaType.imageManifest], body: manifest)]
            }
            if request.path.hasSuffix("/blobs/\(configDescriptor.digest)") {
                return [.respond(status: 200, headers: ["Content-Type": "application/octet-stream"], body: config)]
            }
            return []
        }
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.description.contains("3 diff_ids for 2 layers") == true, "\(String(describing: error))")
        #expect(setup.proxy.count("GET", "/blobs/") == 1, "only the config was fetched")
        #expect(try setup.target.references.list().isEmpty)
    }

    // MARK: A6

    @Test func stalledRegistryTimesOut() throws {
        let setup = try Setup(layerSizes: [1000]) { request, _ in request.path.hasSuffix("/manifests/1") ? [.stall] : [] }
        var configuration = RegistryConfiguration.testing()
        configuration.timeouts.response = 0.5
        configuration.retry.maxAttempts = 2
        let started = Date()
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: configuration).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.kind == .timeout)
        #expect(error?.description.contains("no response within 0.50 s") == true, "\(String(describing: error))")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func drippingBlobTimesOut() throws {
        let box = DigestBox()
        let setup = try Setup(layerSizes: [100_000]) { request, _ in
            guard let layer = box.value, isLayerGET(request, layer) else { return [] }
            return [.drip(interval: 0.2)]
        }
        box.value = setup.layer.digest
        var configuration = RegistryConfiguration.testing()
        configuration.timeouts.lowSpeedWindow = 1
        configuration.timeouts.lowSpeedBytes = 1024
        configuration.retry.maxAttempts = 2
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: configuration).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.kind == .timeout)
        #expect(error?.description.contains("less than 1024 bytes in 1 s") == true, "\(String(describing: error))")
        try setup.expectNothingStored(partialKept: true)
    }

    @Test func retryAfterIsHonouredButCapped() throws {
        let setup = try Setup(layerSizes: [1000]) { request, count in
            request.path.hasSuffix("/manifests/1") && count == 1
                ? [.respond(status: 429, headers: ["Retry-After": "100000"], body: Data(#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#.utf8))]
                : []
        }
        let started = Date()
        let pulled = try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target)
        #expect(pulled.manifestDescriptor.digest == setup.image.manifestDescriptor.digest)
        #expect(Date().timeIntervalSince(started) < 5, "Retry-After 100000 capped at 0.3 s")
        #expect(setup.proxy.count("GET", "/manifests/1") == 2)
    }

    @Test func serverErrorsForeverAreBoundedAndEscaped() throws {
        let setup = try Setup(layerSizes: [1000]) { request, _ in
            request.path.hasSuffix("/manifests/1") ? [.respond(status: 503, headers: [:], body: Data("down\u{1b}[31m for maintenance".utf8))] : []
        }
        let error = expectError(RegistryError.self) { try RegistryClient(configuration: .testing()).pull(try setup.viaProxy, into: setup.target) }
        #expect(error?.kind == .http(503))
        #expect(error?.description.contains("down\\x1b[31m for maintenance") == true, "\(String(describing: error))")
        #expect(setup.proxy.count("GET", "/manifests/1") == 5)
    }
}

func isLayerGET(_ request: WireConnection.Request, _ layer: Digest) -> Bool {
    request.method == "GET" && request.path.hasSuffix("/blobs/\(layer)")
}

final class DigestBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Digest?
    var value: Digest? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

final class CaseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = Data()
    var body: Data {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
