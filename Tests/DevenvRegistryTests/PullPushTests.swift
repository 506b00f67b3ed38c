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
