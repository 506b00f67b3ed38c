@testable import DevenvTestSupport
import Foundation
import Testing

/// An environment of more layers than an image may have (per-package layers add up) fails
/// before anything is stored, naming the setting that helps.
@Suite(.enabled(if: Requirement.root(), "needs root (real builds)"), .timeLimit(.minutes(20)))
struct LayerLimitTests {
    @Test func moreLayersThanAnImageMayHaveNamesTheSetting() throws {
        try Requirement.require(root: true)
        // busybox's layer and 125 copies: 126.
        let steps = (1...125).map { "[[step]]\ncopy = [\"f\"]\nto = \"/f\($0)\"\n" }.joined(separator: "\n")
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n\n" + steps)
        try project.write("f", "x\n")
        let built = try project.devenv(["build"])
        #expect(!built.succeeded)
        #expect(built.stderr.contains("the environment would have 126 layers, more than the 125 an image may have: set a lower `layers` on its `packages` steps"),
                "\(built.stderr)")
    }
}
