@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import DevenvStore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Interoperability with the established tools: podman pulls and runs what devenv pushed,
/// devenv pulls what skopeo pushed. Podman's store is rootful here; outside CI the test
/// is skipped without root or the tools, on CI (CI=true) it runs and fails loudly.
@Suite(.serialized) struct InteropTests {

    @Test(.enabled(if: Requirement.rootAndPrograms("podman", "tar", "gzip"), "needs root and podman"))
    func podmanPullsAndRunsWhatDevenvPushed() throws {
        guard geteuid() == 0 else { throw TestFailure("podman interop needs root (rootful podman storage)") }
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch)
        let image = try Images.busybox(in: store, scratch: scratch, name: "local/busybox:1")
        let tag = "\(registry.authority)/interop/busybox:\(UUID().uuidString.prefix(8).lowercased())"
        let digest = try RegistryClient(configuration: .testing()).push(image, from: store, to: try Reference(parsing: tag))
        defer { _ = try? Tools.execute("podman", ["rmi", "-f", tag]) }

        try Tools.run("podman", ["pull", "-q", "--tls-verify=false", tag])
        let pulledDigest = try Tools.run("podman", ["image", "inspect", "--format", "{{.Digest}}", tag]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pulledDigest == digest.description)
        let output = try Tools.run("podman", ["run", "--rm", "--pull=never", tag, "/bin/echo", "hello from devenv"])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "hello from devenv")
    }

    @Test(.enabled(if: Requirement.programs("skopeo"), "needs skopeo"), arguments: ["oci", "v2s2"])
    func devenvPullsWhatSkopeoPushed(format: String) throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = try Images.store(scratch, "source")
        // Real gzip layers: skopeo recompresses what does not sniff as the declared type.
        let image = try Images.busybox(in: store, scratch: scratch, name: "local/skopeo:1")
        let destination = "\(registry.authority)/interop/skopeo:\(format)"
        // The store is an OCI image layout: skopeo reads it directly and does the push.
        try Tools.run("skopeo", ["copy", "-q", "--format", format, "--dest-tls-verify=false",
                                 "oci:\(store.layout.root):\(image.name)", "docker://\(destination)"])
        let expected = try Tools.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(destination)"])
        let target = try Images.store(scratch, "target")
        let pulled = try RegistryClient(configuration: .testing()).pull(try Reference(parsing: destination), into: target)
        #expect(pulled.manifestDescriptor.digest == Digest.sha256(Data(expected.utf8)))
        let raw = try JSONDecoder().decode(ImageManifest.self, from: Data(expected.utf8))
        #expect(pulled.manifest.layers.map(\.digest) == raw.layers.map(\.digest))
        #expect(pulled.config.rootfs.diffIDs == image.config.rootfs.diffIDs)
        #expect(pulled.manifestDescriptor.mediaType == (format == "oci" ? MediaType.imageManifest : MediaType.dockerManifest))
        for layer in pulled.manifest.layers { #expect(target.content.contains(layer.digest)) }
    }
}
