import DevenvOCI
import DevenvPlan
import Foundation

/// Cache keys chain like BuildKit's: a step's key hashes its parent's key, the step's
/// canonical definition and the digests of its inputs. Equal keys mean equal results, so a
/// hit can reuse a layer without running anything; any change upstream changes every key
/// after it.
public enum CacheKey {
    /// Bump when the encoding or the meaning of a step changes, so old cache entries miss.
    /// 2: one `Step` vocabulary for every front end (was a `BuildStep` per front end).
    public static let version = 2

    private struct BaseMaterial: Encodable {
        var v = CacheKey.version
        var base: Digest
    }

    private struct StepMaterial: Encodable {
        var v = CacheKey.version
        var parent: Digest
        var step: Step
        var inputs: [BuildInput]
    }

    /// The key of the build's starting point: the base image's manifest digest.
    public static func base(manifest: Digest) -> Digest {
        Digest.sha256(OCIDocument.encode(BaseMaterial(base: manifest)))
    }

    public static func step(parent: Digest, step: Step, inputs: [BuildInput]) -> Digest {
        Digest.sha256(OCIDocument.encode(StepMaterial(parent: parent, step: step, inputs: inputs.sorted())))
    }

    /// Whether `data` is a build-cache entry or a build record written for an older
    /// `version` (version 1 wrote none): it no longer decodes, but it is out of date, not
    /// damaged. Its keys are never looked up again, so gc removes it.
    public static func isOutdatedRecord(_ data: Data) -> Bool {
        struct Stamp: Decodable {
            var version: Int?
            var key: Digest?
            var baseDigest: Digest?
        }
        guard let stamp = try? JSONDecoder().decode(Stamp.self, from: data), stamp.key != nil || stamp.baseDigest != nil else { return false }
        return (stamp.version ?? 1) < version
    }
}
