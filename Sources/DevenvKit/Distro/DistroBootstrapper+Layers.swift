import DevenvArchive
import DevenvBuild
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension DistroBootstrapper {
    /// The bootstrapped tree (the layer `single`, unpacked as its snapshot) split like a
    /// `packages` step's (`UpperSplit`, docs/layers.md) into at most `base.layers`, each part committed and kept as its
    /// snapshot; nil when it does not split (no dpkg database). Rootless, the split and the
    /// commits run in the namespace helper (`RuntimeStepExecutor`), like a step's.
    func packageLayers(of single: Descriptor, diffID: Digest, base: DistroBase, work: String) throws -> [StepLayer]? {
        let config = ImageConfig(diffIDs: [diffID])
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.imageConfig, digest: diffID, size: 0), layers: [single])
        guard let tree = try store.snapshots.prepare(manifest: manifest, config: config).first else { return nil }
        let parts = "\(work)/layers"
        guard mkdir(parts, 0o700) == 0 else { throw SystemError.last("mkdir", path: parts) }
        let executor = RuntimeStepExecutor(store: store)
        let split = UpperSplit(commit: UpperCommit(upperDir: tree, lowerDirs: [], runtimeFiles: RuntimeFiles()), partsDirectory: parts,
                               limit: base.layers)
        guard let split = try executor.split(split) else { return nil }
        var chain: [Digest] = []
        var layers: [StepLayer] = []
        for part in split {
            let output = "\(store.layout.ingest)/\(UUID().uuidString).layer"
            defer { unlink(output) }
            var options = LayerWriteOptions()
            options.compression = compression
            options.clampMTime = base.sourceDateEpoch
            let commit = UpperCommit(upperDir: part.directory, lowerDirs: [], runtimeFiles: RuntimeFiles())
            let blob = try executor.commit(commit, to: output, options: options)
            try store.content.adoptVerified(file: output, digest: blob.digest)
            chain.append(blob.diffID)
            try store.snapshots.adopt(directory: part.directory, diffIDs: chain)
            layers.append(StepLayer(descriptor: Descriptor(mediaType: blob.mediaType, digest: blob.digest, size: blob.size),
                                    diffID: blob.diffID, comment: part.comment))
        }
        return layers
    }
}
