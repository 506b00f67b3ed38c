import DevenvArchive
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// What the builder commits after a run step: its overlay upper directory, minus what the
/// runtime put there for the container rather than the step (docs/architecture.md, "A
/// build"). Codable: rootless, it travels to a helper in the user namespace.
public struct UpperCommit: Codable, Sendable, Equatable {
    public var upperDir: String
    /// The image below the step, topmost first.
    public var lowerDirs: [String]
    /// Container paths the runtime may have created (`StepExecutor.mountPoints`).
    public var mountPoints: [String]

    public init(upperDir: String, lowerDirs: [String], mountPoints: [String]) {
        self.upperDir = upperDir
        self.lowerDirs = lowerDirs
        self.mountPoints = mountPoints
    }

    /// The layer, in this process: `removeStubs`, then the upper directory as a layer blob.
    public func write(to output: String, options: LayerWriteOptions) throws -> LayerBlob {
        try removeStubs()
        return try LayerWriter.write(directory: upperDir, to: output, options: options)
    }

    /// Removes the runtime's stubs from the upper directory, as BuildKit does: for each mount
    /// point the image lacks, the empty file or directory at its path (resolved through the
    /// image's symlinks, as the runtime resolves it) and each ancestor the runtime had to
    /// create, when still empty; then the ancestors the image has, which overlay copied up
    /// to hold them, when they are empty, not opaque and keep the image's mode and owner.
    /// Anything the step changed stays: a stub the step filled is no longer empty, and a
    /// bind-mounted stub cannot be written, renamed or removed from inside the container.
    public func removeStubs() throws {
        let candidates = stubCandidates()
        guard !candidates.isEmpty else { return }
        let upper = try FileDescriptor.open(upperDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        // Deepest first, so a directory is judged after what was inside it.
        for candidate in candidates.sorted(by: { $0.components.count > $1.components.count }) {
            try remove(candidate, in: upper)
        }
    }

    struct Candidate: Hashable {
        var components: [String]
        /// Nil: the image lacks the path (a stub of the runtime's); else the image's directory there.
        var image: ImageDirectory?
    }

    struct ImageDirectory: Hashable {
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
    }

    func stubCandidates() -> Set<Candidate> {
        let view = LayerView(lowerDirs: lowerDirs)
        var candidates = Set<Candidate>()
        for point in mountPoints {
            guard let (resolved, node) = try? view.resolve(point), node == nil else { continue }
            var components = LayerView.components(resolved)
            while !components.isEmpty {
                let path = "/" + components.joined(separator: "/")
                if let existing = view.lookup(path) {
                    guard existing.isDirectory else { break }
                    candidates.insert(Candidate(components: components,
                                                image: ImageDirectory(mode: existing.mode, uid: existing.uid, gid: existing.gid)))
                } else {
                    candidates.insert(Candidate(components: components, image: nil))
                }
                components.removeLast()
            }
        }
        return candidates
    }

    private func remove(_ candidate: Candidate, in upper: FileDescriptor) throws {
        var parent = upper
        for component in candidate.components.dropLast() {
            // Never through a symlink: the step may have replaced a directory with one.
            guard let next = try? parent.openat(component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else { return }
            parent = next
        }
        let name = candidate.components[candidate.components.count - 1]
        var info = stat()
        guard fstatat(parent.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        let type = info.st_mode & S_IFMT
        if let image = candidate.image {
            guard type == S_IFDIR, UInt32(info.st_mode) == image.mode, info.st_uid == image.uid, info.st_gid == image.gid,
                  !isOpaque(candidate) else { return }
        } else {
            guard type == S_IFDIR || (type == S_IFREG && info.st_size == 0 && info.st_nlink == 1) else { return }
        }
        // rmdir itself checks that the directory is empty (ENOTEMPTY keeps it).
        if unlinkat(parent.raw, name, type == S_IFDIR ? AT_REMOVEDIR : 0) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT {
            throw SystemError.last("remove the runtime's stub", path: upperDir + "/" + candidate.components.joined(separator: "/"))
        }
    }

    /// By path: every parent was just opened without following a symlink, and the step's
    /// processes are gone, so nothing can swap a component now.
    private func isOpaque(_ candidate: Candidate) -> Bool {
        let path = upperDir + "/" + candidate.components.joined(separator: "/")
        return ["trusted.overlay.opaque", "user.overlay.opaque"].contains { ExtendedAttribute.get($0, of: path, limit: 16) != nil }
    }
}
