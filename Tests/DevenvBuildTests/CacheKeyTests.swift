import DevenvBuild
import DevenvOCI
import Foundation
import Testing

@Suite struct CacheKeyTests {
    static let base = CacheKey.base(manifest: Digest.sha256(Data("manifest".utf8)))
    static let run = BuildStep.run(command: ["/bin/sh", "-c", "echo a > /a"], cacheMounts: [], network: .host)
    static let file = BuildInput(path: "payload.txt", kind: .file, digest: Digest.sha256(Data("payload".utf8)), mode: 0o644)

    /// Golden values: an accidental change to the key derivation would silently invalidate
    /// (or worse, alias) every user's cache, so it must fail here first.
    @Test func keysAreStable() {
        #expect(Self.base.description == "sha256:eb1598670bab9145c43ca48527fc54082625ae44fc7a47cd28a7725a157a0f35")
        let runKey = CacheKey.step(parent: Self.base, step: Self.run, inputs: [])
        #expect(runKey.description == "sha256:20f3202237df645ba2702f0d5883f0d28dcf9bb311dcb727960e8ef2ca9e5644")
    }

    @Test func everyIngredientChangesTheKey() {
        let key = CacheKey.step(parent: Self.base, step: Self.run, inputs: [Self.file])
        let otherParent = CacheKey.step(parent: CacheKey.base(manifest: Digest.sha256(Data("other".utf8))), step: Self.run, inputs: [Self.file])
        let otherStep = CacheKey.step(parent: Self.base, step: .run(command: ["/bin/sh", "-c", "echo b > /a"], cacheMounts: [], network: .host), inputs: [Self.file])
        let otherNetwork = CacheKey.step(parent: Self.base, step: .run(command: ["/bin/sh", "-c", "echo a > /a"], cacheMounts: [], network: .none), inputs: [Self.file])
        var changed = Self.file
        changed.digest = Digest.sha256(Data("payload2".utf8))
        let otherContent = CacheKey.step(parent: Self.base, step: Self.run, inputs: [changed])
        var executable = Self.file
        executable.mode = 0o755
        let otherMode = CacheKey.step(parent: Self.base, step: Self.run, inputs: [executable])
        let keys = [key, otherParent, otherStep, otherNetwork, otherContent, otherMode]
        #expect(Set(keys).count == keys.count)
    }

    @Test func inputOrderDoesNotMatter() {
        let other = BuildInput(path: "b", kind: .symlink, digest: Digest.sha256(Data("target".utf8)), mode: 0o777)
        #expect(CacheKey.step(parent: Self.base, step: Self.run, inputs: [Self.file, other])
                == CacheKey.step(parent: Self.base, step: Self.run, inputs: [other, Self.file]))
    }
}
