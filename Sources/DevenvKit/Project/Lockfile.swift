import DevenvManifest
import DevenvOCI
import DevenvSystem
import Foundation

/// `.devenv/devenv.lock`: what every moving part of the project resolved to, committed by
/// users so every machine builds the same environment. One section per kind of input: the
/// base (`[base]`), the images a Dockerfile base names (`[images]`), and the project's
/// steps (`[[step]]`: definition, copied files, resolved packages). A moved base tag does
/// not change a locked environment; `devenv lock` re-resolves and records what moved.
public struct Lockfile: Equatable, Sendable {
    /// 3: a distro base's archive snapshot and layer cap, `packages` steps with their layers
    /// (2: steps, copied files, packages and Dockerfile images; 1 locked only the base).
    public static let version = 3
    /// The format `packages` steps' digests first included their per-package layers.
    static let packageLayersVersion = 3

    public enum Base: Equatable, Sendable {
        /// `[base] image` as the manifest writes it, and the manifest digest it resolved to.
        case image(String, digest: Digest)
        /// `[base] distro`: the inputs its bootstrap resolved, and the base image made from them.
        case distro(DistroLock, digest: Digest)
        /// `[base] dockerfile`: its path and the digest of its text (its images are in `images`).
        case dockerfile(String, digest: Digest)
    }

    public var baseLock: Base
    /// Dockerfile `FROM` and `COPY --from` images as written, with the manifest digest each
    /// resolved to. Empty for other bases.
    public var images: [String: Digest]
    /// The project's steps in order; nil for a version 1 lock, which did not record them.
    public var steps: [LockedStep]?
    /// The version the file was written in (`version` for a lock made here): an older one is
    /// rewritten by the next build or `devenv lock`.
    public var format: Int

    public init(base: Base, images: [String: Digest] = [:], steps: [LockedStep]? = [], format: Int = Lockfile.version) {
        baseLock = base
        self.images = images
        self.steps = steps
        self.format = format
    }

    public init(base: String, baseDigest: Digest, distro: DistroLock? = nil, steps: [LockedStep]? = []) {
        self.init(base: distro.map { .distro($0, digest: baseDigest) } ?? .image(base, digest: baseDigest), steps: steps)
    }

    /// The base as the manifest writes it (for a distro, its `debian:bookworm`).
    public var base: String {
        switch baseLock {
        case let .image(text, _), let .dockerfile(text, _): return text
        case let .distro(distro, _): return distro.distro
        }
    }

    /// The base image's manifest digest (for a Dockerfile base, the Dockerfile's digest).
    public var baseDigest: Digest {
        switch baseLock {
        case let .image(_, digest), let .distro(_, digest), let .dockerfile(_, digest): return digest
        }
    }

    public var distro: DistroLock? {
        if case let .distro(distro, _) = baseLock { return distro }
        return nil
    }

    /// Every image digest the lock pins, which gc keeps.
    public var imageDigests: [Digest] {
        var digests = Array(images.values)
        if case .dockerfile = baseLock {} else { digests.append(baseDigest) }
        return digests
    }

    // MARK: Reading

    public static func load(path: String) throws -> Lockfile? {
        guard let bytes = try FileDescriptor.readRegularFileIfPresent(path, limit: Manifest.maxFileSize, operation: "read the lock file") else { return nil }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> Lockfile {
        let root = try TOML.parse(bytes, path: path)
        let reader = LockReader(path: path)
        let version = try reader.version(root)
        guard version <= Self.version else {
            throw KitError.invalidLockFile(path: path, line: root["version"]?.node.location.line,
                                           problem: "lock file version \(version) is newer than this devenv understands (\(Self.version)); update devenv")
        }
        guard let base = root["base"]?.node.value.tableValue else { throw reader.invalid(nil, "missing [base]") }
        let digest = try reader.digest(base, "digest", in: "[base]")
        let baseLock: Base
        if base["distro"] != nil {
            baseLock = .distro(try DistroLock.load(base, path: path), digest: digest)
        } else if base["dockerfile"] != nil {
            baseLock = .dockerfile(try reader.string(base, "dockerfile", in: "[base]"), digest: digest)
        } else {
            baseLock = .image(try reader.string(base, "image", in: "[base]"), digest: digest)
        }
        var images: [String: Digest] = [:]
        if let entry = root["images"] {
            guard let table = entry.node.value.tableValue else { throw reader.invalid(entry.node.location.line, "[images] is not a table") }
            for key in table.keys { images[key] = try reader.digest(table, key, in: "[images]") }
        }
        // Version 1 recorded no steps: its steps are unknown, not empty.
        let steps = version < 2 ? nil : try reader.steps(root)
        return Lockfile(base: baseLock, images: images, steps: steps, format: version)
    }

    // MARK: Writing

    /// Stable, diff-friendly TOML: fixed section order, sorted keys, one file or package a line.
    public func render() -> String {
        var lines = ["# Generated by devenv; commit this file. `devenv lock` updates it.", "version = \(Self.version)", "", "[base]"]
        switch baseLock {
        case let .image(text, digest):
            lines += ["digest = \"\(digest)\"", "image = \(Self.quote(text))"]
        case let .dockerfile(path, digest):
            lines += ["digest = \"\(digest)\"", "dockerfile = \(Self.quote(path))"]
        case let .distro(distro, digest):
            lines += distro.renderedKeys(digest: digest)
        }
        if !images.isEmpty {
            lines += ["", "[images]"] + images.keys.sorted().map { "\(Self.quote($0)) = \"\(images[$0]!)\"" }
        }
        for step in steps ?? [] {
            lines += [""] + step.rendered()
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ text: String) -> String { TOMLString.quote(text) }
}
