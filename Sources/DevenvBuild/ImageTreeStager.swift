import DevenvArchive
import DevenvOCI
import DevenvPlan
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Lays out what a copy step or a created working directory adds under a staging root, at the paths
/// the objects will have in the image. Destinations are resolved through the image's own
/// symlinks (so `COPY tool /bin/` lands in `/usr/bin` on a merged-/usr image), and parent
/// directories the image already has are staged with their existing mode and owner, so the
/// layer leaves them as they were. Directories the step creates get mode 0755 and the
/// step's owner; copied directories get their source's metadata (as buildah does).
struct ImageTreeStager {
    let view: LayerView
    let root: String
    private var staged = Set<String>()
    /// Copied directories' metadata, applied last so a read-only directory can still be filled.
    private var pendingDirectories: [(path: String, mode: UInt32, owner: ImageOwner)] = []
    /// Without root the staged nodes are the caller's: their owners, by entry path, for the
    /// layer writer (`LayerWriteOptions.owners`).
    private(set) var owners: [[UInt8]: RecordedOwner] = [:]
    /// Files whose input names the mtime they keep (`BuildInput.mtime`), by entry path, for
    /// the layer writer (`LayerWriteOptions.mtimes`).
    private(set) var mtimes: [[UInt8]: Int64] = [:]

    init(view: LayerView, root: String) throws {
        self.view = view
        self.root = root
        guard mkdir(root, 0o755) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: root) }
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: Directories

    /// Makes sure the resolved image directory `path` exists in the staging root.
    mutating func directory(_ path: String, newOwner: ImageOwner) throws {
        var current = ""
        for component in LayerView.components(path) {
            current += "/" + component
            if staged.contains(current) { continue }
            let target = root + current
            if let node = view.lookup(current) {
                guard node.isDirectory else { throw Problem(description: "'\(Printable.escape(current))' exists in the image and is not a directory") }
                try makeDirectory(target, mode: node.permissions, owner: ImageOwner(uid: node.uid, gid: node.gid))
            } else {
                try makeDirectory(target, mode: 0o755, owner: newOwner)
            }
            staged.insert(current)
        }
    }

    /// WORKDIR: the directory at `path`, created with `owner` where the image lacks it.
    /// Returns false when the image already has it (the step then makes no layer).
    mutating func workdir(_ path: String, owner: ImageOwner) throws -> Bool {
        let (resolved, node) = try view.resolve(path)
        if let node {
            guard node.isDirectory else { throw Problem(description: "'\(Printable.escape(path))' exists in the image and is not a directory") }
            return false
        }
        try directory(resolved, newOwner: owner)
        return true
    }

    // MARK: Copies

    mutating func copy(_ copy: CopyStep, items: [CopyItem], owner chown: ImageOwner?) throws {
        let (destination, node) = try view.resolve(copy.destination)
        let intoDirectory = copy.destination.hasSuffix("/") || items.count > 1 || (node?.isDirectory ?? false)
        let newOwner = chown ?? .root
        for item in items {
            switch item.kind {
            case .directory:
                if let node, !node.isDirectory {
                    throw Problem(description: "cannot copy a directory onto '\(Printable.escape(copy.destination))', which is not a directory in the image")
                }
                try directory(destination, newOwner: newOwner)
                for entry in item.entries.sorted(by: { $0.relative.utf8.lexicographicallyPrecedes($1.relative.utf8) }) {
                    try place(entry, at: Self.join(destination, entry.relative), mode: copy.mode, chown: chown)
                }
            case .archive:
                try directory(destination, newOwner: newOwner)
                for entry in item.entries { try extract(entry, into: destination) }
            case .file:
                for entry in item.entries {
                    try place(entry, at: intoDirectory ? Self.join(destination, item.name) : destination, mode: copy.mode, chown: chown)
                }
            }
        }
        try applyPendingDirectories()
    }

    private mutating func place(_ entry: CopyEntry, at imagePath: String, mode: UInt32?, chown: ImageOwner?) throws {
        let owner = chown ?? entry.uid.map { ImageOwner(uid: $0, gid: entry.gid ?? $0) } ?? .root
        if entry.input.kind == .directory {
            // A directory the image has behind a symlink is filled through the symlink.
            let (resolved, node) = try view.resolve(imagePath)
            let path = node?.isDirectory == true ? resolved : try resolvedParent(of: imagePath, owner: chown ?? .root)
            try directory(Self.parent(path), newOwner: chown ?? .root)
            if !staged.contains(path) {
                try makeDirectory(root + path, mode: 0o755, owner: owner)
                staged.insert(path)
            }
            pendingDirectories.append((path, mode ?? entry.input.mode, owner))
            return
        }
        let path = try resolvedParent(of: imagePath, owner: chown ?? .root)
        let target = root + path
        if staged.contains(path) {
            throw Problem(description: "'\(Printable.escape(path))' is both a directory and a file in this copy")
        }
        unlink(target)
        switch entry.input.kind {
        case .symlink:
            let destination = try FileManager.default.destinationOfSymbolicLink(atPath: entry.source)
            guard Digest.sha256(Data(destination.utf8)) == entry.input.digest else { throw changed(entry) }
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: destination)
        case .file:
            try copyContents(entry, to: target, mode: mode ?? entry.input.mode)
            if let mtime = entry.input.mtime { mtimes[Array(target.utf8.dropFirst(root.utf8.count + 1))] = mtime }
        case .directory:
            break
        }
        try setOwner(target, owner)
    }

    /// The image path with its parent directory resolved through the image's symlinks and
    /// staged; the last component is kept as it is (a file replaces whatever is there).
    private mutating func resolvedParent(of imagePath: String, owner: ImageOwner) throws -> String {
        let (parent, node) = try view.resolve(Self.parent(imagePath))
        if let node, !node.isDirectory {
            throw Problem(description: "'\(Printable.escape(Self.parent(imagePath)))' is not a directory in the image")
        }
        try directory(parent, newOwner: owner)
        return Self.join(parent, (imagePath as NSString).lastPathComponent)
    }

    private mutating func applyPendingDirectories() throws {
        for directory in pendingDirectories.reversed() {
            let target = root + directory.path
            guard chmod(target, mode_t(directory.mode & 0o7777)) == 0 else { throw SystemError.last("chmod", path: target) }
            try setOwner(target, directory.owner)
        }
        pendingDirectories.removeAll()
    }

    // MARK: File system

    private mutating func makeDirectory(_ path: String, mode: UInt32, owner: ImageOwner) throws {
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: path) }
        guard chmod(path, mode_t(mode & 0o7777)) == 0 else { throw SystemError.last("chmod", path: path) }
        try setOwner(path, owner)
    }

    private mutating func setOwner(_ path: String, _ owner: ImageOwner) throws {
        guard geteuid() == 0 else {
            owners[Array(path.utf8.dropFirst(root.utf8.count + 1))] = RecordedOwner(uid: owner.uid, gid: owner.gid)
            return
        }
        guard lchown(path, owner.uid, owner.gid) == 0 else { throw SystemError.last("lchown", path: path) }
    }

    /// Copies a file, hashing what it reads: a file that changed since its digest went
    /// into the cache key fails the step instead of poisoning the cache.
    private func copyContents(_ entry: CopyEntry, to target: String, mode: UInt32) throws {
        let input = try FileDescriptor.openRegularFile(entry.source, flags: O_NOFOLLOW, operation: "copy")
        let output = try FileDescriptor.open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        var hasher = DigestHasher()
        try input.readChunks(path: entry.source) { chunk in
            hasher.update(chunk)
            try output.writeAll(chunk, path: target)
        }
        guard hasher.finalize() == entry.input.digest else { throw changed(entry) }
        guard fchmod(output.raw, mode_t(mode & 0o7777)) == 0 else { throw SystemError.last("fchmod", path: target) }
    }

    /// ADD of a local archive: its entries, with their own modes and owners, below `directory`.
    private mutating func extract(_ entry: CopyEntry, into directory: String) throws {
        guard try FileDigest.sha256(of: entry.source) == entry.input.digest else { throw changed(entry) }
        var options = UnpackOptions()
        options.preserveOwnership = geteuid() == 0
        let target = root + directory
        _ = try LayerUnpacker.unpack(layerAt: entry.source, declared: nil, into: target, options: options)
        // The archive's own `./` gives the destination its owner, as its chown does as root;
        // without root it is only recorded, and the staged owner would win in the writer.
        if !options.preserveOwnership,
           let recorded = ExtendedAttribute.get(RecordedOwner.xattrName, of: target, limit: 32).flatMap(RecordedOwner.init(xattrValue:)) {
            owners[Array(target.utf8.dropFirst(root.utf8.count + 1))] = recorded
        }
    }

    private func changed(_ entry: CopyEntry) -> Problem {
        Problem(description: "'\(Printable.escape(entry.source))' changed while the build was reading it; run the build again")
    }

    static func join(_ directory: String, _ name: String) -> String {
        if name.isEmpty { return directory }
        return directory == "/" ? "/" + name : directory + "/" + name
    }

    static func parent(_ path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "/" : parent
    }
}
