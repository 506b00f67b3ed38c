import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Turns a directory tree (an overlay upper dir or any directory) into tar entries.
///
/// Deterministic: children in byte order, mtimes clamped, no atime/ctime, empty user and
/// group names, xattrs sorted. Overlayfs whiteouts become OCI whiteouts; overlay's own xattrs
/// never appear; hardlinked nodes (same device and inode) are stored once, then as links to
/// the first path.
final class TreeEncoder {
    struct HardlinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    let options: LayerWriteOptions
    let writer: TarWriter
    private(set) var warnings = Warnings()
    private var firstPaths: [HardlinkKey: (path: [UInt8], owner: RecordedOwner)] = [:]
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)

    init(options: LayerWriteOptions, writer: TarWriter) {
        self.options = options
        self.writer = writer
    }

    deinit { buffer.deallocate() }

    func encode(_ root: FileDescriptor) throws {
        try TreeWalker(root: root).walk { event in
            switch event {
            case let .enter(visit, directory):
                try refuseWhiteoutLookalike(visit)
                try encodeDirectory(visit, directory)
            case let .entry(visit):
                try refuseWhiteoutLookalike(visit)
                try encodeNode(visit)
            case .leave: break
            }
        }
    }

    /// A node whose own name starts with `.wh.` would be read by every importer (podman,
    /// docker, devenv) as a whiteout or an opaque marker and delete what the name points at
    /// (`.wh.bin` deletes /bin), so no layer devenv writes may contain one, whatever its type
    /// (BuildKit refuses them too). Deletions reach a layer only as overlay whiteouts, which
    /// this encoder translates itself. For the same reason a 0:0 character device is only
    /// stored as a whiteout, never as a device.
    private func refuseWhiteoutLookalike(_ visit: TreeWalker.Visit) throws {
        if visit.name.starts(with: WhiteoutName.prefix) {
            throw Failure(entry: path(visit), .forbiddenEntry,
                          "a file named '.wh.*' cannot be stored in a layer: image tools would read it as a whiteout (a deletion); rename or remove it")
        }
        if !options.translateOverlayWhiteouts && visit.info.isWhiteout {
            throw Failure(entry: path(visit), .forbiddenEntry,
                          "a 0:0 character device is an overlay whiteout (what an unpacked '.wh.' entry becomes): it cannot be stored in a layer of a plain directory")
        }
    }

    private func path(_ visit: TreeWalker.Visit) -> [UInt8] { EntryPath.join(visit.path[...]) }

    /// `all`: the node's xattrs (before `portable`), where its recorded owner may be.
    private func header(_ visit: TreeWalker.Visit, _ kind: TarEntry.Kind, path: [UInt8], all: [Xattr]) -> TarEntry {
        header(visit, kind, path: path, xattrs: Self.portable(all),
               owner: owner(visit, path: path, recorded: all.first { $0.name == Extractor.ownerXattr }.flatMap { RecordedOwner(xattrValue: $0.value) }))
    }

    private func header(_ visit: TreeWalker.Visit, _ kind: TarEntry.Kind, path: [UInt8], xattrs: [Xattr], owner: RecordedOwner) -> TarEntry {
        let info = visit.info
        var mtime = info.st_mtim.tv_sec
        if let clamp = options.clampMTime, Int64(mtime) > clamp { mtime = Int(clamp) }
        if let kept = options.mtimes[path] { mtime = Int(kept) }
        return TarEntry(path: path, kind: kind, permissions: info.st_mode & 0o7777, uid: Int64(owner.uid),
                        gid: Int64(owner.gid), size: 0, mtime: timespec(tv_sec: mtime, tv_nsec: 0), atime: nil,
                        linkTarget: [], deviceMajor: 0, deviceMinor: 0, xattrs: xattrs)
    }

    /// The owner the layer records: the staged owner of `path`, else the image's owner of
    /// what is on disk (`ImageOwnership`), else the ids on disk.
    private func owner(_ visit: TreeWalker.Visit, path: [UInt8], recorded: RecordedOwner?) -> RecordedOwner {
        let trimmed = path.last == UInt8(ascii: "/") ? Array(path.dropLast()) : path
        if let staged = options.owners[trimmed] { return staged }
        guard let ownership = options.ownership else { return RecordedOwner(uid: visit.info.st_uid, gid: visit.info.st_gid) }
        return ownership.imageOwner(uid: visit.info.st_uid, gid: visit.info.st_gid, recorded: recorded)
    }

    private func encodeDirectory(_ visit: TreeWalker.Visit, _ directory: Int32) throws {
        let all = try readXattrs(.descriptor(directory), visit)
        let name = path(visit)
        try writer.header(header(visit, .directory, path: name + [UInt8(ascii: "/")], all: all))
        if options.translateOverlayWhiteouts && Self.overlayFlag(all, "opaque") == Array("y".utf8) {
            try writer.header(whiteoutHeader(visit, path: name + [UInt8(ascii: "/")] + WhiteoutName.opaqueMarker))
        }
    }

    private func encodeNode(_ visit: TreeWalker.Visit) throws {
        let info = visit.info
        let name = path(visit)
        let type = info.st_mode & S_IFMT
        if options.translateOverlayWhiteouts && info.isWhiteout {
            // Overlay shares one whiteout inode between many names: never a hardlink.
            return try writer.header(whiteoutHeader(visit, path: whiteoutPath(visit)))
        }
        if type == S_IFSOCK {
            warnings.add(name, "socket skipped")
            return
        }
        let key = HardlinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if info.st_nlink > 1, let first = firstPaths[key] {
            var link = header(visit, .hardlink, path: name, xattrs: [], owner: first.owner)
            link.linkTarget = first.path
            return try writer.header(link)
        }
        let entry: TarEntry
        switch type {
        case S_IFREG:
            guard let file = try encodeFile(visit, name) else { return }
            entry = file
        case S_IFLNK:
            var link = header(visit, .symlink, path: name, all: try readXattrs(.node(directory: visit.parent, name: visit.name), visit))
            link.linkTarget = try readLink(visit)
            try writer.header(link)
            entry = link
        case S_IFCHR, S_IFBLK, S_IFIFO:
            let kind: TarEntry.Kind = type == S_IFCHR ? .characterDevice : type == S_IFBLK ? .blockDevice : .fifo
            var node = header(visit, kind, path: name, all: try readXattrs(.node(directory: visit.parent, name: visit.name), visit))
            node.deviceMajor = UInt64(DeviceNumber.major(info.st_rdev))
            node.deviceMinor = UInt64(DeviceNumber.minor(info.st_rdev))
            try writer.header(node)
            entry = node
        default:
            throw Failure(entry: name, .unsupportedInput, "unknown file type \(String(type, radix: 8))")
        }
        if info.st_nlink > 1 { firstPaths[key] = (name, RecordedOwner(uid: UInt32(entry.uid), gid: UInt32(entry.gid))) }
    }

    /// The file's header, nil when it was an overlay whiteout (written as one).
    private func encodeFile(_ visit: TreeWalker.Visit, _ name: [UInt8]) throws -> TarEntry? {
        let fd = withCString(visit.name) { openat(visit.parent, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw Failure.system("openat", entry: name) }
        let file = FileDescriptor(adopting: fd)
        let info = try file.stat()
        guard info.st_ino == visit.info.st_ino, info.st_dev == visit.info.st_dev else {
            throw Failure(entry: name, .unsupportedInput, "the file was replaced while the layer was written")
        }
        let all = try readXattrs(.descriptor(fd), visit)
        if options.translateOverlayWhiteouts && Self.overlayFlag(all, "whiteout") != nil {
            // An overlay "xwhiteout" (Linux 6.7+): a regular file carrying the whiteout xattr.
            try writer.header(whiteoutHeader(visit, path: whiteoutPath(visit)))
            return nil
        }
        var entry = header(visit, .file, path: name, all: all)
        entry.size = Int64(visit.info.st_size)
        try writer.header(entry)
        var remaining = entry.size
        while remaining > 0 {
            let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(buffer.count, Int(remaining))]))
            guard count > 0 else {
                throw Failure(entry: name, .unsupportedInput, "the file shrank while the layer was written")
            }
            try writer.data(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            remaining -= Int64(count)
        }
        return entry
    }

    private func readLink(_ visit: TreeWalker.Visit) throws -> [UInt8] {
        var target = [UInt8](repeating: 0, count: Linux.pathMax + 1)
        let count = withCString(visit.name) { name in
            target.withUnsafeMutableBufferPointer { readlinkat(visit.parent, name, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard count >= 0 else { throw Failure.system("readlinkat", entry: path(visit)) }
        return Array(target.prefix(count))
    }

    private func whiteoutPath(_ visit: TreeWalker.Visit) -> [UInt8] {
        EntryPath.join(visit.path.dropLast()[...] + [WhiteoutName.prefix + visit.name])
    }

    private func whiteoutHeader(_ visit: TreeWalker.Visit, path: [UInt8]) -> TarEntry {
        var entry = header(visit, .file, path: path, xattrs: [], owner: RecordedOwner(uid: 0, gid: 0))
        entry.permissions = 0
        return entry
    }

    // MARK: xattrs

    private func readXattrs(_ target: XattrIO.Target, _ visit: TreeWalker.Visit) throws -> [Xattr] {
        do {
            var result: [Xattr] = []
            for name in try XattrIO.names(target) {
                guard let value = try XattrIO.value(target, name: name) else { continue }
                result.append(Xattr(name: name, value: value))
            }
            try Self.refuseIncompleteOverlay(result)
            return result
        } catch let failure as Failure {
            throw failure.with(entry: path(visit))
        }
    }

    /// The value of overlay's `<prefix>flag` under either prefix.
    static func overlayFlag(_ xattrs: [Xattr], _ flag: String) -> [UInt8]? {
        for prefix in Extractor.overlayPrefixes {
            if let match = xattrs.first(where: { $0.name == prefix + Array(flag.utf8) }) { return match.value }
        }
        return nil
    }

    /// With metacopy or redirect_dir, an upper dir holds references into lower layers
    /// instead of content: it cannot become a self-contained layer.
    static func refuseIncompleteOverlay(_ xattrs: [Xattr]) throws {
        for flag in ["metacopy", "redirect"] where overlayFlag(xattrs, flag) != nil {
            throw Failure(.unsupportedInput, "overlay \(flag) attribute found: mount the overlay with metacopy=off,redirect_dir=off")
        }
    }

    /// The xattrs a layer carries: user.* and trusted.* (overlay's own namespaces and
    /// devenv's owner record excluded) and security.capability. Host-specific labels
    /// (security.selinux, IMA/EVM) are left out so a layer does not depend on the machine
    /// that built it.
    static func portable(_ xattrs: [Xattr]) -> [Xattr] {
        xattrs.filter { xattr in
            if Extractor.isOverlayXattr(xattr.name) || xattr.name == Extractor.ownerXattr { return false }
            return xattr.name.starts(with: Array("user.".utf8)) || xattr.name.starts(with: Array("trusted.".utf8))
                || xattr.name == Array("security.capability".utf8)
        }.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }
}
