@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation
import Testing

/// Pull and push against Debian's real docker-registry on a free loopback port.
@Suite struct PullPushTests {
    @Test func pushThenPullByTagAndByDigest() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch()
        let source = try Images.store(scratch, "source")
        let image = try Images.random(in: source, name: "local/app:1", layerSizes: [300_000, 5_000_000, 1_000])
        let client = RegistryClient(configuration: .testing())
        let reference = try Reference(parsing: "\(registry.authority)/team/app:1")

        let pushed = try client.push(image, from: source, to: reference)
        #expect(pushed == image.manifestDescriptor.digest)

        let target = try Images.store(scratch, "target")
        let pulled = try client.pull(reference, into: target)
        #expect(pulled.manifestDescriptor.digest == pushed)
        #expect(pulled.name == reference.description)
        for layer in image.manifest.layers {
            #expect(try target.content.read(layer.digest, limit: 10 << 20).count == Int(layer.size))
        }
        #expect(try target.image(reference.description).manifest == image.manifest)

        let byDigest = try Reference(parsing: "\(registry.authority)/team/app@\(pushed)")
        let fresh = try Images.store(scratch, "fresh")
        #expect(try client.pull(byDigest, into: fresh).manifestDescriptor.digest == pushed)

        let found = try client.exists(reference)
        #expect(found?.digest == pushed)
        #expect(found?.size == image.manifestDescriptor.size)
        #expect(try client.exists(try Reference(parsing: "\(registry.authority)/team/app:nope")) == nil)
    }
}

extension PullPushTests {
    @Test func chunkedUploadThenRepushSkipsEveryBlob() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let proxy = try FaultProxy(upstream: registry.port)
        defer { proxy.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let image = try Images.random(in: store, name: "local/big:1", layerSizes: [3_500_000, 200_000])
        var configuration = RegistryConfiguration.testing()
        configuration.limits.uploadChunk = 1 << 20
        let client = RegistryClient(configuration: configuration)
        let reference = try Reference(parsing: "\(proxy.authority)/team/big:1")

        try client.push(image, from: store, to: reference)
        #expect(proxy.count("PATCH") == 4, "a 3.5 MB layer in 1 MiB chunks")
        #expect(proxy.count("PUT", "/blobs/uploads/") == 3, "one closing PUT per blob")
        #expect(proxy.count("PUT", "/manifests/") == 1)

        let uploadsBefore = proxy.count("POST") + proxy.count("PATCH") + proxy.count("PUT", "/blobs/")
        try client.push(image, from: store, to: reference)
        #expect(proxy.count("POST") + proxy.count("PATCH") + proxy.count("PUT", "/blobs/") == uploadsBefore, "re-push uploads nothing")
        #expect(proxy.count("HEAD", "/blobs/") == 6)
        #expect(proxy.count("PUT", "/manifests/") == 2)

        let pulled = try client.pull(reference, into: try Images.store(scratch, "pulled"))
        #expect(pulled.manifestDescriptor.digest == image.manifestDescriptor.digest)
    }

    @Test func blobsPulledFromOneRepositoryAreMountedIntoAnother() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let proxy = try FaultProxy(upstream: registry.port)
        defer { proxy.stop() }
        let scratch = try Scratch()
        let client = RegistryClient(configuration: .testing())
        let origin = try Reference(parsing: "\(proxy.authority)/team/base:1")
        let seed = try Images.store(scratch, "seed")
        try client.push(try Images.random(in: seed, name: "base", layerSizes: [400_000]), from: seed, to: origin)

        // A second machine pulls the base, then pushes it under another repository name.
        let store = try Images.store(scratch, "store")
        let pulled = try client.pull(origin, into: store)
        let copy = try Reference(parsing: "\(proxy.authority)/other/app:1")
        let uploadsBefore = proxy.count("PATCH") + proxy.count("PUT", "/blobs/")
        let log = EventLog()
        try client.push(pulled, from: store, to: copy, progress: log.record)
        let events = log.skips
        #expect(events.filter { $0 == .mounted(from: "team/base") }.count == 2, "config and layer mounted: \(events)")
        #expect(proxy.count("POST", "mount=") == 2)
        #expect(proxy.count("PATCH") + proxy.count("PUT", "/blobs/") == uploadsBefore, "nothing uploaded")
        #expect(try client.exists(copy)?.digest == pulled.manifestDescriptor.digest)
    }

    @Test func multiPlatformIndexResolvesToTheHostManifest() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let client = RegistryClient(configuration: .testing())
        let other = Platform(architecture: Platform.host.architecture == "amd64" ? "arm64" : "amd64", os: "linux")
        let native = try Images.random(in: store, name: "native", layerSizes: [10_000], platform: .host)
        let foreign = try Images.random(in: store, name: "foreign", layerSizes: [10_000], platform: other)
        let repository = "\(registry.authority)/team/multi"
        for image in [native, foreign] {
            try client.push(image, from: store, to: try Reference(parsing: "\(repository)@\(image.manifestDescriptor.digest)"))
        }
        var entries = [foreign.manifestDescriptor, native.manifestDescriptor]
        entries[0].platform = other
        entries[1].platform = .host
        let index = OCIDocument.encode(ImageIndex(manifests: entries))
        let indexDigest = try client.pushManifest(index, mediaType: MediaType.imageIndex, to: try Reference(parsing: "\(repository):latest"))

        let pulled = try client.pull(try Reference(parsing: "\(repository):latest"), into: try Images.store(scratch, "pulled"))
        #expect(pulled.manifestDescriptor.digest == native.manifestDescriptor.digest)
        #expect(pulled.config.platform.architecture == Platform.host.architecture)

        let byIndexDigest = try client.pull(try Reference(parsing: "\(repository)@\(indexDigest)"), into: try Images.store(scratch, "pinned"))
        #expect(byIndexDigest.manifestDescriptor.digest == native.manifestDescriptor.digest)

        let onlyForeign = OCIDocument.encode(ImageIndex(manifests: [entries[0]]))
        try client.pushManifest(onlyForeign, mediaType: MediaType.imageIndex, to: try Reference(parsing: "\(repository):foreign"))
        let error = expectError(RegistryError.self) {
            try client.pull(try Reference(parsing: "\(repository):foreign"), into: try Images.store(scratch, "none"))
        }
        #expect(error?.description.contains("no manifest for platform linux/\(Platform.host.architecture)") == true, "\(String(describing: error))")
        #expect(error?.description.contains("available: linux/\(other.architecture)") == true)
    }

    @Test func missingImageIsNotFound() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let error = expectError(RegistryError.self) {
            try RegistryClient(configuration: .testing()).pull(try Reference(parsing: "\(registry.authority)/no/such:1"), into: store)
        }
        #expect(error?.kind == .notFound)
        #expect(error?.description.hasPrefix("pull \(registry.authority)/no/such:1: GET manifest") == true, "\(String(describing: error))")
        #expect(try store.references.list().isEmpty)
    }
}
