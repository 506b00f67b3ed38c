import DevenvBuild
import DevenvOCI
import DevenvPlan
import Foundation
import Testing

/// A step's secrets are in its cache key by id and place only: the content lives in
/// `BuildSecrets`, which no step, and so no key, holds.
@Suite struct SecretCacheKeyTests {
    static let base = CacheKey.base(manifest: Digest.sha256(Data("manifest".utf8)))

    static func key(_ secrets: [SecretMount]) -> Digest {
        CacheKey.step(parent: base, step: .run(RunStep(command: ["npm", "ci"], secrets: secrets)), inputs: [])
    }

    @Test func idsAndPlacesAreInTheKeyAndNothingElseCanBe() throws {
        let npmrc = SecretMount(kind: .secret, id: "npmrc", target: "/run/secrets/npmrc")
        #expect(Self.key([]) == CacheKey.step(parent: Self.base, step: .run(RunStep(command: ["npm", "ci"])), inputs: []))
        #expect(Self.key([npmrc]) != Self.key([]))
        #expect(Self.key([npmrc]) != Self.key([SecretMount(kind: .secret, id: "other", target: "/run/secrets/npmrc")]))
        #expect(Self.key([npmrc]) != Self.key([SecretMount(kind: .secret, id: "npmrc", target: "/root/.npmrc")]))
        // The file's owner and mode are what the step sees, so they are part of it.
        #expect(Self.key([npmrc]) != Self.key([SecretMount(kind: .secret, id: "npmrc", target: "/run/secrets/npmrc", uid: 1000, mode: 0o440)]))
        // What the key hashes, spelled out: a secret has no field that could hold its content.
        let encoded = String(decoding: try JSONEncoder().encode(npmrc), as: UTF8.self)
        #expect(Set(try #require(try JSONSerialization.jsonObject(with: Data(encoded.utf8)) as? [String: Any]).keys) == ["kind", "id", "target", "required"])
    }
}
