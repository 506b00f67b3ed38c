import DevenvAdopt
import DevenvArchive
import DevenvOCI
import DevenvRegistry
import DevenvSystem
import Foundation

/// Where a Dev Container Feature comes from, as its reference says.
enum FeatureSource: Equatable {
    /// `./name` or `../name`: a directory, relative to devcontainer.json's directory,
    /// inside the project.
    case local(path: String)
    /// `REGISTRY/OWNER/REPO/NAME:VERSION` or `…@sha256:…`: an OCI artifact.
    case oci(Reference)
    /// `https://…/devcontainer-feature-NAME.tgz` (a tar, gzip or zstd).
    case tarball(String)

    /// The OCI artifact types of the features distribution spec.
    static let artifactType = ArtifactType(config: "application/vnd.devcontainers", layer: "application/vnd.devcontainers.layer.v1+tar")

    static func classify(_ reference: String, configDirectory: String, root: String) throws(FeatureProblem) -> FeatureSource {
        if reference.hasPrefix("./") || reference.hasPrefix("../") {
            let path = Self.normalize("\(configDirectory)/\(reference)")
            guard path.hasPrefix(root + "/") else { throw FeatureProblem("a local feature must be inside the project directory") }
            return .local(path: path)
        }
        // Plain http is refused when fetched, except where a registry could use it (loopback).
        if reference.hasPrefix("https://") || reference.hasPrefix("http://") { return .tarball(reference) }
        guard reference.contains("/") else {
            throw FeatureProblem("a short feature name is the retired form; write the OCI reference (for example ghcr.io/devcontainers/features/\(Printable.escape(reference, limit: 64)):1)")
        }
        do {
            return .oci(try Reference(parsing: reference))
        } catch {
            throw FeatureProblem("\(error)")
        }
    }

    /// The feature's identity, the same whatever version is asked for: what `dependsOn`,
    /// `installsAfter` and `overrideFeatureInstallOrder` name.
    var key: String {
        switch self {
        case let .local(path): return path
        case let .oci(reference): return reference.name
        case let .tarball(url): return url
        }
    }

    /// `installsAfter` and `overrideFeatureInstallOrder` entries name features without a
    /// version; anything unparsable is kept as written (it then matches nothing).
    static func key(of reference: String, configDirectory: String, root: String) -> String {
        (try? classify(reference, configDirectory: configDirectory, root: root).key) ?? reference
    }

    private static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// A feature's files in a directory devenv owns, and what identifies them.
struct FetchedFeature {
    /// Holds `devcontainer-feature.json` and `install.sh`; mounted into the install step.
    var directory: String
    /// The content digest: the artifact's manifest, the archive, or the local files.
    var digest: Digest
    var metadata: FeatureMetadata
    /// What the lock pins: `REGISTRY/REPO@sha256:…` for OCI features, the URL of an archive.
    var resolved: String?
}

/// Fetches features into `<state>/features/`: OCI artifacts through the engine's one
/// registry client (pinned digests from the lock first), local directories copied, each
/// layer unpacked with DevenvArchive's confined extraction.
struct FeatureFetcher {
    let engine: Engine
    let stateDirectory: String
    /// Reference as written -> its devcontainer-lock.json entry.
    var pins: [String: DevContainerLock.Entry] = [:]

    /// Features are small: a few scripts.
    static let maxUnpackedBytes: Int64 = 256 << 20
    static let maxEntries = 10_000

    func fetch(_ source: FeatureSource, reference: String) throws -> FetchedFeature {
        switch source {
        case let .local(path):
            return try fetchLocal(path)
        case let .oci(written):
            var pulled = written
            if let pin = pins[reference], let pinned = try? Reference(parsing: pin.resolved), pinned.name == written.name, pinned.digest != nil {
                pulled = pinned
            }
            let artifact = try engine.registry().pullArtifact(pulled, type: FeatureSource.artifactType, into: engine.store)
            let directory = "\(stateDirectory)/features/\(artifact.manifest.encoded.prefix(32))"
            try unpackOnce(artifact.layers.map { engine.store.content.path(for: $0.digest) }, into: directory)
            return FetchedFeature(directory: directory, digest: artifact.manifest, metadata: try metadata(in: directory),
                                  resolved: "\(written.name)@\(artifact.manifest)")
        case let .tarball(text):
            guard let url = URL(string: text) else { throw FeatureProblem("not a valid URL") }
            let blob = try engine.registry().fetchArchive(url, mediaType: FeatureSource.artifactType.layer, limit: Int(Self.maxUnpackedBytes), into: engine.store)
            if let pinned = pins[reference]?.integrity, pinned != blob.digest.description {
                throw FeatureProblem("the archive is now \(blob.digest), not the \(Printable.escape(pinned, limit: 80)) devcontainer-lock.json pins; run `devenv lock` if the change is intended")
            }
            let directory = "\(stateDirectory)/features/archive-\(blob.digest.encoded.prefix(32))"
            try unpackOnce([engine.store.content.path(for: blob.digest)], into: directory)
            return FetchedFeature(directory: directory, digest: blob.digest, metadata: try metadata(in: directory), resolved: text)
        }
    }

    /// The directory's files are copied, so that neither install.sh nor a later edit of
    /// the working tree changes what a cached step was built from.
    private func fetchLocal(_ path: String) throws -> FetchedFeature {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FeatureProblem("\(Printable.escape(path, limit: 200)) is not a directory")
        }
        let digest = try Self.digest(ofDirectory: path)
        let directory = "\(stateDirectory)/features/local-\(digest.encoded.prefix(32))"
        if !FileManager.default.fileExists(atPath: directory) {
            let temporary = "\(directory).tmp-\(getpid())"
            try? DirectoryRemover.removeAsCaller(temporary)
            try FileManager.default.createDirectory(atPath: "\(stateDirectory)/features", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: path, toPath: temporary)
            try AtomicFile.rename(temporary, to: directory)
        }
        return FetchedFeature(directory: directory, digest: digest, metadata: try metadata(in: directory), resolved: nil)
    }

    /// The hash of every regular file's relative path, mode and content; a symlink or
    /// other special file is refused (it could point anywhere on the host).
    static func digest(ofDirectory root: String) throws -> Digest {
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw FeatureProblem("cannot list \(Printable.escape(root, limit: 200))") }
        var entries: [String] = []
        while let relative = walker.nextObject() as? String {
            let path = "\(root)/\(relative)"
            var status = stat()
            guard lstat(path, &status) == 0 else { throw SystemError.last("lstat", path: path) }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                entries.append("d \(relative)")
            case S_IFREG:
                let data = try FileDescriptor.readRegularFile(path, limit: Int(maxUnpackedBytes), flags: O_NOFOLLOW, operation: "read the feature file")
                entries.append("f \(relative) \(String(status.st_mode & 0o7777, radix: 8)) \(Digest.sha256(Data(data)))")
            default:
                throw FeatureProblem("\(Printable.escape(relative, limit: 200)) is not a regular file or directory (symlinks are not copied)")
            }
            guard entries.count <= maxEntries else { throw FeatureProblem("more than \(maxEntries) files") }
        }
        return Digest.sha256(Data(entries.sorted().joined(separator: "\n").utf8))
    }

    /// Unpacks the layers into `directory` unless an earlier fetch did; into a temporary
    /// directory first, renamed into place only when complete.
    private func unpackOnce(_ layers: [String], into directory: String) throws {
        guard !FileManager.default.fileExists(atPath: directory) else { return }
        try FileManager.default.createDirectory(atPath: "\(stateDirectory)/features", withIntermediateDirectories: true)
        let temporary = "\(directory).tmp-\(getpid())"
        try? DirectoryRemover.removeAsCaller(temporary)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        var options = UnpackOptions()
        options.preserveOwnership = false
        options.maxUncompressedBytes = Self.maxUnpackedBytes
        options.maxEntries = Self.maxEntries
        do {
            for layer in layers { _ = try LayerUnpacker.unpack(layerAt: layer, declared: nil, into: temporary, options: options) }
            try AtomicFile.rename(temporary, to: directory)
        } catch {
            try? DirectoryRemover.removeAsCaller(temporary)
            throw error
        }
    }

    private func metadata(in directory: String) throws -> FeatureMetadata {
        let path = "\(directory)/devcontainer-feature.json"
        guard let bytes = try FileDescriptor.readRegularFileIfPresent(path, limit: 1 << 20, flags: O_NOFOLLOW, operation: "read the feature's metadata") else {
            throw FeatureProblem("it has no devcontainer-feature.json")
        }
        let metadata = try FeatureMetadata.parse(bytes, path: "devcontainer-feature.json")
        var status = stat()
        guard lstat("\(directory)/install.sh", &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw FeatureProblem("it has no install.sh (a regular file)")
        }
        return metadata
    }
}
