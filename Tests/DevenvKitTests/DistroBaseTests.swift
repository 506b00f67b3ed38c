import DevenvManifest
import DevenvOCI
import Testing
@testable import DevenvKit

func distro(_ base: String) throws -> Manifest.Distro {
    let manifest = try Manifest.parse(Array("[base]\n\(base)\n".utf8), path: ".devenv/devenv.toml")
    return try #require(manifest.base.distro)
}

/// How a `[base] distro` becomes bootstrap inputs, a cache key and a store name.
@Suite struct DistroBaseTests {
    @Test func mirrorPrecedence() throws {
        let declared = DistroBase(try distro("distro = \"debian:bookworm\"\nmirror = \"http://m.example/debian\""), hostMirror: "http://host/debian")
        #expect(declared.mirror == "http://m.example/debian" && declared.mirrorSource == .manifest)

        let snapshot = DistroBase(try distro("distro = \"debian:bookworm\"\nsnapshot = \"20250520T000000Z\""), hostMirror: "http://host/debian")
        #expect(snapshot.mirror == "http://snapshot.debian.org/archive/debian/20250520T000000Z" && snapshot.mirrorSource == .snapshot)

        let host = DistroBase(try distro("distro = \"debian:trixie\""), hostMirror: "http://host/debian")
        #expect(host.mirror == "http://host/debian" && host.mirrorSource == .host)

        let builtIn = DistroBase(try distro("distro = \"debian:trixie\""), hostMirror: nil)
        #expect(builtIn.mirror == "http://deb.debian.org/debian" && builtIn.mirrorSource == .builtIn)
    }

    @Test func snapshotURLs() {
        #expect(DistroBase.snapshotMirror(.debian, snapshot: "20261101T000000Z") == "http://snapshot.debian.org/archive/debian/20261101T000000Z")
        #expect(DistroBase.snapshotMirror(.ubuntu, snapshot: "20261101T000000Z") == "http://snapshot.ubuntu.com/ubuntu/20261101T000000Z")
        #expect(DistroBase.defaultMirror(.ubuntu, architecture: "amd64") == "http://archive.ubuntu.com/ubuntu")
        #expect(DistroBase.defaultMirror(.ubuntu, architecture: "arm64") == "http://ports.ubuntu.com/ubuntu-ports")
    }

    @Test func sourceDateEpochComesFromTheSnapshot() throws {
        #expect(DistroBase.epoch(snapshot: "19700101T000000Z") == 0)
        #expect(DistroBase.epoch(snapshot: "20250520T000000Z") == 1_747_699_200)
        #expect(DistroBase.epoch(snapshot: "20261101T123456Z") == 1_793_536_496)
        #expect(DistroBase.epoch(snapshot: "2026-11-01") == nil)
        let pinned = DistroBase(try distro("distro = \"debian:bookworm\"\nsnapshot = \"20250520T000000Z\""), hostMirror: nil)
        #expect(pinned.sourceDateEpoch == 1_747_699_200)
        let unpinned = DistroBase(try distro("distro = \"debian:bookworm\""), hostMirror: nil)
        #expect(unpinned.sourceDateEpoch == DistroBase.defaultEpoch)
    }

    @Test func keyIgnoresPackageOrderAndDuplicates() throws {
        let one = DistroBase(try distro("distro = \"debian:bookworm\"\npackages = [\"git\", \"curl\", \"git\"]"), hostMirror: nil, architecture: "amd64")
        let two = DistroBase(try distro("distro = \"debian:bookworm\"\npackages = [\"curl\", \"git\"]"), hostMirror: nil, architecture: "amd64")
        #expect(one.packages == ["curl", "git"])
        #expect(one.key == two.key && one.tag == two.tag)
    }

    @Test func everyInputChangesTheKey() {
        let reference = DistroBase(family: .debian, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .host, architecture: "amd64")
        var variants = [reference]
        variants.append(DistroBase(family: .ubuntu, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .host, architecture: "amd64"))
        variants.append(DistroBase(family: .debian, suite: "trixie", mirror: "http://a/debian", mirrorSource: .host, architecture: "amd64"))
        variants.append(DistroBase(family: .debian, suite: "bookworm", variant: "buildd", mirror: "http://a/debian", mirrorSource: .host, architecture: "amd64"))
        variants.append(DistroBase(family: .debian, suite: "bookworm", mirror: "http://b/debian", mirrorSource: .host, architecture: "amd64"))
        variants.append(DistroBase(family: .debian, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .host, snapshot: "20250520T000000Z", architecture: "amd64"))
        variants.append(DistroBase(family: .debian, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .host, packages: ["git"], architecture: "amd64"))
        variants.append(DistroBase(family: .debian, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .host, architecture: "arm64"))
        variants.append(DistroBase(family: .debian, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .host, architecture: "amd64", layers: 8))
        #expect(Set(variants.map(\.key)).count == variants.count)
        // Where the mirror came from is not an input: the same URL is the same archive.
        let declared = DistroBase(family: .debian, suite: "bookworm", mirror: "http://a/debian", mirrorSource: .manifest, architecture: "amd64")
        #expect(declared.key == reference.key)
    }

    /// Pinned: a change here orphans every stored base, so it must be deliberate (bump
    /// `DistroBase.keyVersion`).
    @Test func keyAndTagGolden() {
        let base = DistroBase(family: .debian, suite: "bookworm", mirror: "http://deb.debian.org/debian", mirrorSource: .builtIn, architecture: "amd64")
        #expect(base.key.description == "sha256:be98781e5a16cfb447aa961279cbf452167b0cf59a6d1f52b5229e2249718104")
        #expect(base.tag == "localhost/devenv-base/debian:bookworm-be98781e5a16")
        #expect((try? Reference(parsing: base.tag)) != nil)
    }
}
