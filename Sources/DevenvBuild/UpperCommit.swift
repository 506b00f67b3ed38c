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
    /// What the runtime may have put in the upper directory (`StepExecutor.runtimeFiles`).
    /// Owners in the upper and lower directories are the image's where the commit runs (as
    /// root; rootless in the step's user namespace, where snapshots hold the image's ids).
    public var runtimeFiles: RuntimeFiles

    public init(upperDir: String, lowerDirs: [String], runtimeFiles: RuntimeFiles) {
        self.upperDir = upperDir
        self.lowerDirs = lowerDirs
        self.runtimeFiles = runtimeFiles
    }

    /// The layer, in this process: `removeStubs`, then the upper directory as a layer blob.
    public func write(to output: String, options: LayerWriteOptions) throws -> LayerBlob {
        try removeStubs()
        return try LayerWriter.write(directory: upperDir, to: output, options: options)
    }

    /// The layer tar to `fd`, in the user namespace's helper: `removeStubs`, then the upper
    /// directory. Returns the warnings.
    public func writeTar(to fd: Int32, clampMTime: Int64?) throws -> [String] {
        try removeStubs()
        var options = LayerWriteOptions()
        options.clampMTime = clampMTime
        return try LayerWriter.writeTar(directory: upperDir, to: fd, options: options)
    }

    /// Removes what the runtime put in the upper directory, as BuildKit does for mount
    /// points: for each mount point the image lacks, the empty file or directory at its path
    /// (resolved through the image's symlinks, as the runtime resolves it) and each ancestor
    /// the runtime had to create, when still empty; a generated file (an account the image
    /// lacks, added to /etc/passwd) when its contents are still exactly what the runtime
    /// wrote; then the ancestors the image has, which overlay copied up to hold them, when
    /// they are empty, not opaque and keep the image's mode and owner. Anything the step
    /// changed stays: a stub the step filled is no longer empty, and a bind-mounted stub
    /// cannot be written, renamed or removed from inside the container.
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
        enum Kind: Hashable {
            /// The image lacks the path: the runtime's empty file or directory.
            case stub
            /// A file the runtime wrote, with these contents.
            case generated([UInt8])
            /// A directory the image has (mode with type bits, owner): an overlay copy-up.
            case copiedUp(mode: UInt32, uid: UInt32, gid: UInt32)
        }

        var components: [String]
        var kind: Kind
    }

    func stubCandidates() -> Set<Candidate> {
        let view = LayerView(lowerDirs: lowerDirs)
        var candidates = Set<Candidate>()
        let leaves = runtimeFiles.mountPoints.map { ($0, nil as [UInt8]?) } + runtimeFiles.generated.map { ($0.path, $0.contents as [UInt8]?) }
        for (path, contents) in leaves {
            guard let (resolved, node) = try? view.resolve(path) else { continue }
            var components = LayerView.components(resolved)
            guard !components.isEmpty else { continue }
            if let contents {
                guard node == nil || node?.isRegularFile == true else { continue }
                candidates.insert(Candidate(components: components, kind: .generated(contents)))
                components.removeLast()
            } else if node != nil {
                continue
            }
            while !components.isEmpty {
                if let existing = view.lookup("/" + components.joined(separator: "/")) {
                    guard existing.isDirectory else { break }
                    candidates.insert(Candidate(components: components, kind: .copiedUp(mode: existing.mode, uid: existing.uid, gid: existing.gid)))
                } else {
                    candidates.insert(Candidate(components: components, kind: .stub))
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
        switch candidate.kind {
        case .stub:
            guard type == S_IFDIR || (type == S_IFREG && info.st_size == 0 && info.st_nlink == 1) else { return }
        case let .generated(contents):
            guard type == S_IFREG, info.st_nlink == 1, info.st_size == contents.count,
                  (try? Self.contents(parent, name, size: contents.count)) == contents else { return }
        case let .copiedUp(mode, uid, gid):
            guard type == S_IFDIR, UInt32(info.st_mode) == mode, info.st_uid == uid, info.st_gid == gid,
                  !isOpaque(candidate) else { return }
        }
        // rmdir itself checks that the directory is empty (ENOTEMPTY keeps it).
        if unlinkat(parent.raw, name, type == S_IFDIR ? AT_REMOVEDIR : 0) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT {
            throw SystemError.last("remove the runtime's stub", path: upperDir + "/" + candidate.components.joined(separator: "/"))
        }
    }

    private static func contents(_ parent: FileDescriptor, _ name: String, size: Int) throws -> [UInt8] {
        let file = try parent.openat(name, O_RDONLY | O_NOFOLLOW)
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = try bytes.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[..<filled])
    }

    /// By path: every parent was just opened without following a symlink, and the step's
    /// processes are gone, so nothing can swap a component now.
    private func isOpaque(_ candidate: Candidate) -> Bool {
        let path = upperDir + "/" + candidate.components.joined(separator: "/")
        return ["trusted.overlay.opaque", "user.overlay.opaque"].contains { ExtendedAttribute.get($0, of: path, limit: 16) != nil }
    }
}

/// What the runtime puts in a container's upper directory for it, rather than the step
/// (docs/runtime.md, the mount plan): mount points it creates where the image lacks them,
/// and files it writes.
public struct RuntimeFiles: Codable, Sendable, Equatable {
    public struct Generated: Codable, Sendable, Equatable {
        public var path: String
        public var contents: [UInt8]

        public init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }
    }

    /// Container paths.
    public var mountPoints: [String]
    public var generated: [Generated]

    public init(mountPoints: [String] = [], generated: [Generated] = []) {
        self.mountPoints = mountPoints
        self.generated = generated
    }
}
