import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Applies tar entries below a root, one at a time (LayerUnpacker drives it).
///
/// Every entry's parent is resolved in-root (RootedDirectory), the final component is created
/// with *at() calls that never follow a symlink, and an existing node at that name is replaced
/// ("last entry wins"; a directory over a directory merges). Directory modes and times are
/// applied at the end, deepest first, so restrictive modes never block extraction and the
/// contents' writes do not disturb directory mtimes.
final class Extractor {
    private struct DeferredDirectory {
        var permissions: mode_t
        var times: [timespec]
        var inode: ino_t
    }

    let rooted: RootedDirectory
    let options: UnpackOptions
    private(set) var warnings = Warnings()
    private var deferred: [EntryPath: DeferredDirectory] = [:]
    private let umask = currentUmask()
    /// The owner a node gets when this process creates it, when that is certain: the
    /// effective ids, unless the root is setgid (new nodes would inherit its group). Nodes we
    /// just made with these ids need no chown; a Debian layer is almost all root:root.
    private let creator: (uid: UInt32, gid: UInt32)?
    /// The owner a node the creator made shows without a record.
    private let creatorShows: RecordedOwner?

    init(directory: String, lowers: LowerLayers, options: UnpackOptions) throws {
        rooted = try RootedDirectory(path: directory, lowers: lowers, opaqueXattr: Array((options.overlayXattrPrefix + "opaque").utf8))
        self.options = options
        let info = try rooted.root.stat()
        let creator = info.st_mode & S_ISGID == 0 ? (uid: geteuid(), gid: getegid()) : nil
        self.creator = creator
        creatorShows = creator.map { RecordedOwner(uid: $0.uid, gid: $0.gid) }
        rooted.merged.copiedUp = { [unowned self] in try copiedUp($0, $1, $2, $3) }
    }

    func apply(_ entry: TarEntry, reader: TarReader) throws {
        let path = try EntryPath.normalise(entry.path)
        if !path.isRoot {
            if try WhiteoutName.isBelowAUFSMetadata(path) {
                warnings.add(entry.path, "AUFS metadata entry skipped")
                return
            }
            switch try WhiteoutName.classify(path.name) {
            case .none: break
            case .opaque:
                try WhiteoutName.checkKind(entry)
                return try markOpaque(path.parent)
            case .aufsMetadata:
                warnings.add(entry.path, "AUFS metadata entry skipped")
                return
            case let .whiteout(name):
                try WhiteoutName.checkKind(entry)
                return try whiteout(path.parent, name)
            }
        }
        try validateOwner(entry)
        switch entry.kind {
        case .directory: try makeDirectory(path, entry)
        case .file: try writeFile(path, entry, reader)
        case .symlink: try makeSymlink(path, entry)
        case .hardlink: try makeHardlink(path, entry)
        case .characterDevice, .blockDevice, .fifo: try makeNode(path, entry)
        case .socket: warnings.add(entry.path, "socket skipped")
        }
    }

    /// Applies deferred directory modes and times, deepest first, then syncs if asked.
    func finish() throws {
        let ordered = deferred.sorted { $0.key.depth > $1.key.depth }
        for (path, metadata) in ordered {
            let directory: FileDescriptor
            if path.isRoot {
                directory = rooted.root
            } else {
                guard let parent = try? rooted.directory(path.parent, create: false) else { continue }
                let fd = withCString(path.name) { openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                guard fd >= 0 else { continue }
                directory = FileDescriptor(adopting: fd)
            }
            // A later entry replaced this directory (or a parent by a symlink): not ours.
            guard let info = try? directory.stat(), info.st_ino == metadata.inode else { continue }
            guard fchmod(directory.raw, metadata.permissions) == 0 else { throw Failure.system("fchmod", entry: path.bytes) }
            guard futimens(directory.raw, metadata.times) == 0 else { throw Failure.system("futimens", entry: path.bytes) }
        }
        if options.syncFilesystem { try rooted.root.syncFilesystem() }
    }

    // MARK: entry kinds

    private func makeDirectory(_ path: EntryPath, _ entry: TarEntry) throws {
        let directory: FileDescriptor
        var fresh = true
        if path.isRoot {
            fresh = false
            directory = rooted.root
        } else {
            let parent = try rooted.directory(path.parent, create: true)
            let name = path.name
            var replacesWhiteout = false
            if withCString(name, { mkdirat(parent.raw, $0, 0o700) }) != 0 {
                guard errno == EEXIST else { throw Failure.system("mkdirat") }
                fresh = false
                if let existing = try RootedDirectory.status(parent, name), !existing.isDirectory {
                    replacesWhiteout = existing.isWhiteout
                    try rooted.remove(parent, name, existing)
                    guard withCString(name, { mkdirat(parent.raw, $0, 0o700) }) == 0 else { throw Failure.system("mkdirat") }
                    fresh = true
                }
            }
            let fd = withCString(name) { openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else { throw Failure.system("openat") }
            directory = FileDescriptor(adopting: fd)
            rooted.remember(path, directory)
            // `.wh.NAME` then `NAME/` in one layer: the lower NAME is deleted and this one
            // replaces it, so none of the lower contents may show through (image-spec).
            if replacesWhiteout { try rooted.merged.setOpaque(directory) }
        }
        try chown(.descriptor(directory.raw), entry, fresh: fresh)
        try setXattrs(.descriptor(directory.raw), entry)
        let info = try directory.stat()
        deferred[path] = DeferredDirectory(permissions: entry.permissions, times: times(entry), inode: info.st_ino)
    }

    private func writeFile(_ path: EntryPath, _ entry: TarEntry, _ reader: TarReader) throws {
        guard entry.size <= options.maxUncompressedBytes else {
            throw Failure(.limitExceeded, "file size \(entry.size) exceeds the limit of \(options.maxUncompressedBytes) bytes")
        }
        guard !path.isRoot else { throw Failure(.forbiddenEntry, "a regular file cannot replace the root directory") }
        let parent = try rooted.directory(path.parent, create: true)
        let permissions = entry.permissions & 0o777
        let fd = try create(parent, path.name, "openat") {
            withCString(path.name) { FileDescriptor.openRaw(in: parent.raw, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: permissions) }
        }
        let file = FileDescriptor(adopting: fd)
        var end: Int64 = 0
        try reader.readData(entry: entry.path) { block, offset in
            try Self.writeAll(file.raw, block, at: offset)
            end = offset + Int64(block.count)
        }
        // Sparse files end in a hole, or the data ran short of the header's size.
        if end != entry.size && ftruncate(file.raw, off_t(entry.size)) != 0 { throw Failure.system("ftruncate") }
        try chown(.descriptor(file.raw), entry, fresh: true)
        if needsChmod(entry.permissions) && fchmod(file.raw, entry.permissions) != 0 { throw Failure.system("fchmod") }
        // After chown: chown clears security.capability.
        try setXattrs(.descriptor(file.raw), entry)
        guard futimens(file.raw, times(entry)) == 0 else { throw Failure.system("futimens") }
    }

    private func makeSymlink(_ path: EntryPath, _ entry: TarEntry) throws {
        guard !path.isRoot else { throw Failure(.forbiddenEntry, "a symlink cannot replace the root directory") }
        let parent = try rooted.directory(path.parent, create: true)
        _ = try create(parent, path.name, "symlinkat") {
            withCString(entry.linkTarget) { target in withCString(path.name) { symlinkat(target, parent.raw, $0) } }
        }
        try finishNode(parent, path.name, entry, chmod: false)
    }

    /// Hardlink targets resolve in-root like any path; they must exist, and never be a
    /// directory or a whiteout. linkat without AT_SYMLINK_FOLLOW links a symlink itself.
    private func makeHardlink(_ path: EntryPath, _ entry: TarEntry) throws {
        let target: EntryPath
        do {
            target = try EntryPath.normalise(entry.linkTarget)
        } catch let failure as Failure {
            throw Failure(entry: entry.path, failure.kind,
                          "hardlink target '\(Printable.escape(bytes: entry.linkTarget))': \(failure.message)")
        }
        guard !path.isRoot, !target.isRoot else { throw Failure(.forbiddenEntry, "hardlink to or from the root directory") }
        // Whiteout names never exist in a snapshot: such a target can only be a trick.
        if let name = target.components.first(where: { $0.starts(with: WhiteoutName.prefix) }) {
            throw Failure(.invalidWhiteout, "hardlink target '\(Printable.escape(bytes: entry.linkTarget))' has a whiteout name ('\(Printable.escape(bytes: name))')")
        }
        let targetParent: FileDescriptor
        do {
            targetParent = try rooted.directory(target.parent, create: false)
        } catch let failure as Failure where failure.errno == ENOENT {
            throw Failure(.missingLinkTarget, "hardlink target '\(Printable.escape(bytes: entry.linkTarget))' does not exist")
        }
        guard let targetInfo = try RootedDirectory.status(targetParent, target.name) else {
            throw Failure(.missingLinkTarget, "hardlink target '\(Printable.escape(bytes: entry.linkTarget))' does not exist")
        }
        guard !targetInfo.isDirectory else {
            throw Failure(.forbiddenEntry, "hardlink to a directory ('\(Printable.escape(bytes: entry.linkTarget))')")
        }
        guard !targetInfo.isWhiteout else {
            throw Failure(.forbiddenEntry, "hardlink to an overlay whiteout ('\(Printable.escape(bytes: entry.linkTarget))')")
        }
        if target == path { return }
        let parent = try rooted.directory(path.parent, create: true)
        let link = {
            withCString(target.name) { from in withCString(path.name) { linkat(targetParent.raw, from, parent.raw, $0, 0) } }
        }
        if link() == 0 { return }
        guard errno == EEXIST, let existing = try RootedDirectory.status(parent, path.name) else { throw Failure.system("linkat") }
        if existing.st_ino == targetInfo.st_ino && existing.st_dev == targetInfo.st_dev { return }
        try rooted.remove(parent, path.name, existing)
        guard link() == 0 else { throw Failure.system("linkat") }
    }

    /// FIFOs are created; device nodes never are (docs/layers.md): a snapshot is a host
    /// directory, where a block device would be a door to the host's disks for anyone who
    /// can reach it, and containers get their devices from the runtime's /dev.
    private func makeNode(_ path: EntryPath, _ entry: TarEntry) throws {
        guard !path.isRoot else { throw Failure(.forbiddenEntry, "a special file cannot replace the root directory") }
        if entry.isDevice {
            guard entry.deviceMajor <= Linux.maxDeviceMajor, entry.deviceMinor <= Linux.maxDeviceMinor else {
                throw Failure(.forbiddenEntry, "device number \(entry.deviceMajor):\(entry.deviceMinor) is out of range")
            }
            // In a lower dir a 0:0 character device *is* a whiteout: refuse it on every path (C4).
            if entry.kind == .characterDevice && entry.deviceMajor == 0 && entry.deviceMinor == 0 {
                throw Failure(.forbiddenEntry, "a 0:0 character device would act as an overlay whiteout")
            }
            let kind = entry.kind == .characterDevice ? "character" : "block"
            warnings.add(entry.path, "\(kind) device \(entry.deviceMajor):\(entry.deviceMinor) skipped (layers never create device nodes; /dev comes from the runtime)")
            return
        }
        let parent = try rooted.directory(path.parent, create: true)
        _ = try create(parent, path.name, "mknodat") {
            withCString(path.name) { mknodat(parent.raw, $0, S_IFIFO | (entry.permissions & 0o777), 0) }
        }
        try finishNode(parent, path.name, entry, chmod: true)
    }

    /// Ownership, mode, xattrs and times of a node that cannot be opened (symlink, device,
    /// FIFO), addressed by name in its parent, never following it.
    private func finishNode(_ parent: FileDescriptor, _ name: [UInt8], _ entry: TarEntry, chmod: Bool) throws {
        let target = XattrIO.Target.node(directory: parent.raw, name: name)
        try chown(target, entry, fresh: true)
        // fchmodat follows symlinks; only ever called for the device or FIFO we just made.
        if chmod && needsChmod(entry.permissions) {
            guard withCString(name, { fchmodat(parent.raw, $0, entry.permissions, 0) }) == 0 else { throw Failure.system("fchmodat") }
        }
        try setXattrs(target, entry)
        guard withCString(name, { utimensat(parent.raw, $0, times(entry), AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw Failure.system("utimensat")
        }
    }

    // MARK: whiteouts

    /// `.wh.NAME`: an overlay whiteout (0:0 character device) NAME in the same directory. A
    /// node already at NAME came from this layer and wins (whiteouts only hide lower layers);
    /// if it is a directory it becomes opaque, since the lower NAME it replaces is deleted.
    private func whiteout(_ directory: EntryPath, _ name: [UInt8]) throws {
        let parent = try rooted.directory(directory, create: true)
        if let existing = try RootedDirectory.status(parent, name) {
            if existing.isDirectory {
                let fd = withCString(name) { openat(parent.raw, $0, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                guard fd >= 0 else { throw Failure.system("openat") }
                try rooted.merged.setOpaque(FileDescriptor(adopting: fd))
            }
            return
        }
        guard withCString(name, { mknodat(parent.raw, $0, S_IFCHR, 0) }) == 0 else {
            let code = errno
            throw Failure(.system(operation: "mknodat", errno: code),
                          "create overlay whiteout '\(Printable.escape(bytes: name))' (needs Linux 5.8+, or root)")
        }
    }

    /// `.wh..wh..opq`: the directory hides lower layers' contents (xattr `<prefix>opaque=y`).
    /// The directory resolves like any parent (created if missing, symlinks followed in-root).
    private func markOpaque(_ path: EntryPath) throws {
        try rooted.merged.setOpaque(try rooted.directory(path, create: true))
    }

    /// A directory created in the snapshot because a lower layer has it: it takes that
    /// directory's owner now, and its mode and times at the end (`finish`), as overlayfs's
    /// copy-up would, so writing below it does not change how it looks.
    private func copiedUp(_ path: EntryPath, _ parent: FileDescriptor, _ name: [UInt8], _ lowerDirectory: FileDescriptor) throws {
        let lower = try lowerDirectory.stat()
        if options.preserveOwnership && (creator?.uid != lower.st_uid || creator?.gid != lower.st_gid) {
            guard withCString(name, { fchownat(parent.raw, $0, lower.st_uid, lower.st_gid, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                throw Self.chownFailure(uid: lower.st_uid, gid: lower.st_gid)
            }
        } else if !options.preserveOwnership {
            // The lower directory's image owner, which this one must keep.
            let recorded = XattrIO.recordedOwner(.node(directory: lowerDirectory.raw, name: []))
            let owner = recorded ?? RecordedOwner(uid: lower.st_uid, gid: lower.st_gid)
            try record(owner, .node(directory: parent.raw, name: name), fresh: true)
        }
        guard let created = try RootedDirectory.status(parent, name) else { throw Failure.system("fstatat", errno: ENOENT) }
        deferred[path] = DeferredDirectory(permissions: lower.st_mode & 0o7777, times: [lower.st_atim, lower.st_mtim], inode: created.st_ino)
    }

    // MARK: metadata

    private func validateOwner(_ entry: TarEntry) throws {
        // 0xffffffff is chown's "leave unchanged": it would silently keep the creator's ids.
        guard (0..<0xffff_ffff).contains(entry.uid), (0..<0xffff_ffff).contains(entry.gid) else {
            throw Failure(.forbiddenEntry, "uid/gid \(entry.uid):\(entry.gid) is out of range")
        }
    }

    /// `fresh`: the node was just created by this process, so its owner is `creator`.
    private func chown(_ target: XattrIO.Target, _ entry: TarEntry, fresh: Bool) throws {
        let uid = uid_t(entry.uid)
        let gid = gid_t(entry.gid)
        guard options.preserveOwnership else {
            return try record(RecordedOwner(uid: uid, gid: gid), target, fresh: fresh)
        }
        if fresh, let creator, creator.uid == uid, creator.gid == gid { return }
        let status: Int32
        switch target {
        case let .descriptor(fd): status = fchown(fd, uid, gid)
        case let .node(directory, name): status = withCString(name) { fchownat(directory, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
        }
        guard status == 0 else { throw Self.chownFailure(uid: uid, gid: gid) }
    }

    /// chown's EINVAL means an id this user namespace does not map: rootless, an image may
    /// use only as many ids as the user's subordinate range holds, and the fix is on the host.
    static func chownFailure(uid: uid_t, gid: gid_t, errno code: Int32 = devenvErrno()) -> Failure {
        guard code == EINVAL, !isMapped(uid, in: "uid_map") || !isMapped(gid, in: "gid_map") else {
            return Failure.system("chown to \(uid):\(gid)", errno: code)
        }
        let uids = mappedIDCount("uid_map").map { "\($0)" } ?? "fewer"
        let gids = mappedIDCount("gid_map").map { "\($0)" } ?? "fewer"
        // Container id N > 0 is the subordinate range's id N-1: the range needs N ids.
        let needed = max(UInt64(max(uid, gid)), 65536)
        return Failure(.unmappedOwner(uid: uid, gid: gid),
                       "owner \(uid):\(gid) is outside the ids this user namespace maps (\(uids) uids, \(gids) gids: "
                       + "your own id and your subordinate range); give your user a subordinate range of at least \(needed) ids "
                       + "in /etc/subuid and /etc/subgid, one no other user has (e.g. `usermod --add-subuids 200000-\(200_000 + needed - 1) "
                       + "--add-subgids 200000-\(200_000 + needed - 1) USER`)")
    }

    /// Without the right to chown, the owner goes into `user.devenv.owner` (`ImageOwnership`)
    /// unless the node already shows it. Symlinks cannot carry user attributes (EPERM): they
    /// keep the caller's ids, as do nodes on filesystems without them.
    private func record(_ owner: RecordedOwner, _ target: XattrIO.Target, fresh: Bool) throws {
        let name = Array(RecordedOwner.xattrName.utf8)
        if creatorShows == owner {
            if !fresh { XattrIO.remove(target, name: name) }
            return
        }
        let code = XattrIO.set(target, name: name, value: owner.xattrValue)
        guard code == 0 || code == EPERM || code == ENOTSUP else {
            throw Failure(.system(operation: "setxattr", errno: code), "record the owner \(owner.uid):\(owner.gid) in \(RecordedOwner.xattrName)")
        }
    }

    private func needsChmod(_ permissions: mode_t) -> Bool {
        permissions & 0o7000 != 0 || permissions & umask != 0
    }

    /// Applies the entry's xattrs. Overlay's own namespace is never taken from a layer: it
    /// would steer overlayfs (opaque, redirect, metacopy) from inside the image. Attributes
    /// the filesystem or our privileges refuse are warnings.
    private func setXattrs(_ target: XattrIO.Target, _ entry: TarEntry) throws {
        for xattr in entry.xattrs {
            if Self.isOverlayXattr(xattr.name) {
                warnings.add(entry.path, "xattr \(Printable.escape(bytes: xattr.name)) dropped (overlayfs namespace)")
                continue
            }
            if xattr.name == Self.ownerXattr {
                warnings.add(entry.path, "xattr \(Printable.escape(bytes: xattr.name)) dropped (devenv's own owner record)")
                continue
            }
            let code = XattrIO.set(target, name: xattr.name, value: xattr.value)
            if code == 0 { continue }
            if code == ENOTSUP || code == EPERM || code == EACCES {
                warnings.add(entry.path, "xattr \(Printable.escape(bytes: xattr.name)) not applied: \(Errno.message(code)) (\(Errno.name(code)))")
                continue
            }
            throw Failure(.system(operation: "setxattr", errno: code), "setxattr \(Printable.escape(bytes: xattr.name))")
        }
    }

    static let ownerXattr = Array(RecordedOwner.xattrName.utf8)

    static let overlayPrefixes = [Array("trusted.overlay.".utf8), Array("user.overlay.".utf8)]

    static func isOverlayXattr(_ name: [UInt8]) -> Bool {
        overlayPrefixes.contains { name.starts(with: $0) }
    }

    private func times(_ entry: TarEntry) -> [timespec] {
        [entry.atime ?? entry.mtime, entry.mtime]
    }

    // MARK: helpers

    /// Runs `make`; if the name exists, replaces it (last entry wins) and runs `make` again.
    private func create(_ parent: FileDescriptor, _ name: [UInt8], _ operation: String, _ make: () -> Int32) throws -> Int32 {
        var result = make()
        if result < 0 && errno == EEXIST, let existing = try RootedDirectory.status(parent, name) {
            try rooted.remove(parent, name, existing)
            result = make()
        }
        guard result >= 0 else { throw Failure.system(operation) }
        return result
    }

    private static func writeAll(_ fd: Int32, _ block: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < block.count {
            let written = pwrite(fd, block.baseAddress! + done, block.count - done, off_t(offset) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure.system("write")
            }
            done += written
        }
    }
}
