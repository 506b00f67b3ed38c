import Foundation
import Testing
@testable import DevenvManifest

/// docs/manifest.md's complete example must stay valid and use every key.
@Test func documentedExampleIsValid() throws {
    let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/manifest.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    let start = try #require(text.range(of: "```toml\n"))
    let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
    let example = String(text[start.upperBound..<end.lowerBound])
    let manifest = try Manifest.parse(Array(example.utf8), path: "docs/manifest.md")
    #expect(Set(manifest.steps.map(\.action.key)) == Set(ManifestValidator.stepActions))
    #expect(manifest.shell.mount != nil && manifest.shell.workdir != nil && manifest.shell.shell != nil)
    #expect(!manifest.shell.env.isEmpty && manifest.shell.network != nil && manifest.shell.mounts.count == 3)
    #expect(manifest.shell.dotfiles.map(\.relativePath) == [".bashrc", ".config/nvim"] && manifest.shell.home == .persistent)
    #expect(manifest.tasks.count == 3 && manifest.cache != nil)
    #expect(manifest.limits.memory?.value == "8g" && manifest.limits.pids?.value == "4096")
    #expect(manifest.limits.cpus?.value == "2.5" && manifest.limits.shmSize?.value == "2g")
}
