import DevenvBuild
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation

/// `devenv verify`: the project's locked environment rebuilt from nothing in a scratch
/// store (`--frozen --no-cache`), compared layer by layer with the image this store holds.
public struct VerificationReport: Sendable {
    public struct Layer: Sendable {
        public var number: Int
        /// The image history's line for the layer (`devenv: run make`).
        public var createdBy: String
        public var recorded: Digest?
        public var rebuilt: Digest?
        public var matches: Bool { recorded == rebuilt }
    }

    public var image: String
    public var layers: [Layer]
    public var recordedConfig: Digest
    public var rebuiltConfig: Digest
    public var differing: [Layer] { layers.filter { !$0.matches } }
    public var isReproducible: Bool { differing.isEmpty && recordedConfig == rebuiltConfig }
}

extension ProjectBuild {
    /// `executor` runs the scratch build's steps against the scratch store. An image base, and
    /// every image a Dockerfile base's FROM and `COPY --from` lines name, is copied in at its
    /// locked digest (it is not devenv's to rebuild), and the Dockerfile's stages run again; a
    /// distro base is bootstrapped again from the locked archive.
    public func verify(scratchRoot: String, executor: (ImageStore) -> any StepExecutor) throws -> VerificationReport {
        guard let lock = try Lockfile.load(path: project.lockPath) else {
            throw LockError(message: "\(project.displayPath): `devenv verify` rebuilds a locked environment, and there is no .devenv/devenv.lock\n\(LockError.hint)")
        }
        let recorded: StoredImage
        do {
            recorded = try engine.store.image(project.imageTag)
        } catch StoreError.imageNotFound {
            throw KitError.unsupported(command: "devenv verify", project: project.displayPath, what: "an environment that was never built",
                                       hint: "`devenv build` first, then verify it")
        }
        guard mkdir(scratchRoot, 0o700) == 0 else { throw SystemError.last("mkdir", path: scratchRoot) }
        defer { try? DirectoryRemover.remove(scratchRoot) }
        let scratch = try Engine(storeRoot: "\(scratchRoot)/store")
        scratch.notes = engine.notes
        switch lock.baseLock {
        case let .image(_, digest):
            try copy(try baseReference(), digest: digest, into: scratch, scratchRoot: scratchRoot)
        case .dockerfile:
            for (word, digest) in lock.images.sorted(by: { $0.key < $1.key }) {
                try copy(try Reference(parsing: word), digest: digest, into: scratch, scratchRoot: scratchRoot)
            }
        case .distro:
            break
        }
        var build = ProjectBuild(engine: scratch, project: project)
        build.bootstrapOutput = bootstrapOutput
        build.bootstrapEvents = bootstrapEvents
        let rebuilt = try build.build(options: Options(frozen: true, noCache: true), executor: executor(scratch.store)).image
        return Self.compare(recorded: recorded, rebuilt: rebuilt)
    }

    /// A locked image as this store has it (pulled by digest if it has none), exported and
    /// imported unchanged.
    private func copy(_ reference: Reference, digest: Digest, into scratch: Engine, scratchRoot: String) throws {
        let base = try engine.image(digest: digest, name: reference)
        let archive = "\(scratchRoot)/base.tar"
        try engine.exporter().export(base, to: archive, format: .oci)
        let copied = try scratch.importer().importImage(from: archive, tag: reference)
        unlink(archive)
        guard copied.manifestDescriptor.digest == digest else {
            throw StoreError.invalidImage(reference.familiar, reason: "copied into the scratch store as \(copied.manifestDescriptor.digest), not the locked \(digest)")
        }
    }

    static func compare(recorded: StoredImage, rebuilt: StoredImage) -> VerificationReport {
        // A `packages` step's layers share its line; their comments (`package curl`) tell them apart.
        let history = (rebuilt.config.history ?? recorded.config.history ?? []).filter { $0.emptyLayer != true }.map { entry in
            (entry.comment.map { "\($0): " } ?? "") + (entry.createdBy ?? "")
        }
        let count = max(recorded.manifest.layers.count, rebuilt.manifest.layers.count)
        // A base image may carry less history than layers: the last entries name the last layers.
        let offset = rebuilt.manifest.layers.count - history.count
        let layers = (0..<count).map { index in
            VerificationReport.Layer(number: index + 1, createdBy: history.indices.contains(index - offset) ? history[index - offset] : "",
                                     recorded: index < recorded.manifest.layers.count ? recorded.manifest.layers[index].digest : nil,
                                     rebuilt: index < rebuilt.manifest.layers.count ? rebuilt.manifest.layers[index].digest : nil)
        }
        return VerificationReport(image: recorded.familiarName, layers: layers, recordedConfig: recorded.manifest.config.digest,
                                  rebuiltConfig: rebuilt.manifest.config.digest)
    }
}
