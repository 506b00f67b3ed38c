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
    static let version = 2

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
}
