@testable import DevenvTestSupport
import Foundation
import Testing

/// Teams share environments through a registry: machine A builds and pushes under the
/// environment's cache key, machine B (another store) fetches instead of building.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("docker-registry")))
struct PrebuiltEnvironmentTests {
    @Test func secondMachineFetchesInsteadOfBuilding() throws {
        try Requirement.require(root: true, programs: ["docker-registry"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let base = "\(registry.authority)/base/busybox:1"
        let manifest = """
        [base]
        image = "\(base)"

        [[step]]
        run = "echo built-on-a > /origin"

        [cache]
        registry = "\(registry.authority)/team/env"
        """
        let project = try ProjectFixture(manifest: manifest)
        let tarball = try Fixtures.busyboxRootfs(in: project.scratch, name: "base")
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", base], store: project.store).succeeded)
        let pushBase = try DevenvProcess.devenv(["push", base], store: project.store)
        #expect(pushBase.succeeded, "\(pushBase.stderr)")

        let machineA = try project.devenv(["build", "--push"])
        #expect(machineA.succeeded, "\(machineA.stderr)")
        #expect(machineA.stderr.contains("pushed \(registry.authority)/team/env:key-"))

        let otherStore = project.scratch.file("machine-b")
        let machineB = try DevenvProcess.devenv(["build", "--json"], store: otherStore, directory: project.root)
        #expect(machineB.succeeded, "\(machineB.stderr)")
        #expect(machineB.stderr.contains("fetched the prebuilt environment"))
        let summary = try JSONSerialization.jsonObject(with: Data(machineB.stdout.utf8)) as? [String: Any]
        #expect(summary?["source"] as? String == "fetched")
        let cacheEntries = (try? FileManager.default.contentsOfDirectory(atPath: "\(otherStore)/buildcache")) ?? []
        #expect(cacheEntries.isEmpty, "machine B ran no step")

        let ran = try DevenvProcess.devenv(["run", "--", "cat", "/origin"], store: otherStore, directory: project.root)
        #expect(ran.stdout == "built-on-a\n", "\(ran.stderr)")

        // Without the prebuilt image, B builds and says so.
        try project.write(".devenv/devenv.toml", manifest.replacingOccurrences(of: "built-on-a", with: "changed"))
        let rebuilt = try DevenvProcess.devenv(["build"], store: otherStore, directory: project.root)
        #expect(rebuilt.succeeded, "\(rebuilt.stderr)")
        #expect(rebuilt.stderr.contains("no prebuilt environment"))
    }
}
