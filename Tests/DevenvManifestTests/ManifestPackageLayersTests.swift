import Testing
@testable import DevenvManifest

/// `[[step]] layers`: the cap on a `packages` step's layers, with located errors.
@Suite struct ManifestPackageLayersTests {
    static let base = "[base]\nimage = \"debian\"\n[[step]]\npackages = [\"git\", \"make\"]\n"

    @Test func layersOfAPackagesStep() throws {
        let manifest = try Manifest.parse(Array((Self.base + "layers = 12\n").utf8), path: ".devenv/devenv.toml")
        #expect(manifest.steps[0].layers?.value == 12)
        #expect(manifest.steps[0].layers?.location.line == 5 && manifest.steps[0].layers?.location.column == 10)
        #expect(try Manifest.parse(Array(Self.base.utf8), path: ".devenv/devenv.toml").steps[0].layers == nil)
    }

    @Test(arguments: [
        ("layers = 0", "5:10: error: step[1].layers: must be from 1 to 100 (layers of this step; an image has at most 125)"),
        ("layers = 101", "5:10: error: step[1].layers: must be from 1 to 100 (layers of this step; an image has at most 125)"),
        ("layers = -3", "5:10: error: step[1].layers: must be from 1 to 100 (layers of this step; an image has at most 125)"),
        ("layers = \"40\"", "5:10: error: step[1].layers: expected an integer, found a string"),
    ])
    func badLimitsAreLocated(_ line: String, _ expected: String) throws {
        do {
            _ = try Manifest.parse(Array((Self.base + line).utf8), path: ".devenv/devenv.toml")
            Issue.record("accepted \(line)")
        } catch let error as ManifestError {
            #expect(error.description == ".devenv/devenv.toml:" + expected)
        }
    }

    @Test func layersBelongToPackagesSteps() throws {
        let text = "[base]\nimage = \"debian\"\n[[step]]\nrun = \"make\"\nlayers = 3\n"
        do {
            _ = try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml")
            Issue.record("accepted layers on a run step")
        } catch let error as ManifestError {
            #expect(error.description == ".devenv/devenv.toml:5:1: error: step[1].layers: 'layers' is only valid in a 'packages' step")
        }
    }

    /// `[base] layers`: the cap on the bootstrapped base's layers, next to `distro`.
    @Test func layersOfADistroBase() throws {
        let manifest = try Manifest.parse(Array("[base]\ndistro = \"debian:bookworm\"\nlayers = 8\n".utf8), path: ".devenv/devenv.toml")
        let distro = try #require(manifest.base.distro)
        #expect(distro.layers?.value == 8 && distro.layers?.location.line == 3 && distro.layers?.location.column == 10)
        #expect(distro.layerCap == 8)
        #expect(try Manifest.parse(Array("[base]\ndistro = \"debian:bookworm\"\n".utf8), path: "m").base.distro?.layerCap == Manifest.Distro.defaultLayers)
    }

    @Test(arguments: [
        ("[base]\ndistro = \"debian:bookworm\"\nlayers = 0\n", "3:10: error: base.layers: must be from 1 to 100 (layers of the base; an image has at most 125)"),
        ("[base]\ndistro = \"debian:bookworm\"\nlayers = 2.5\n", "3:10: error: base.layers: expected an integer, found a float"),
        ("[base]\nimage = \"debian\"\nlayers = 4\n", "3:1: error: base.layers: 'layers' is only valid with 'distro'"),
    ])
    func badBaseLayersAreLocated(_ text: String, _ expected: String) throws {
        do {
            _ = try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml")
            Issue.record("accepted \(text)")
        } catch let error as ManifestError {
            #expect(error.description == ".devenv/devenv.toml:" + expected)
        }
    }
}
