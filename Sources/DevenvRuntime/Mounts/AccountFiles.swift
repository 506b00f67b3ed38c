import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes the container user into the image's /etc/passwd and /etc/group (through the overlay,
/// so only the temporary upper layer changes) and creates the home directory. Bind-mounting
/// the files instead would make them busy for `useradd`, which renames over them.
struct AccountFiles {
    let root: RootDirectory

    func ensure(_ user: ContainerUser) throws {
        if let updated = AccountDatabase.passwd(existing: try read("/etc/passwd"), user: user) {
            try write("/etc/passwd", updated)
        }
        if let updated = AccountDatabase.group(existing: try read("/etc/group"), user: user) {
            try write("/etc/group", updated)
        }
    }

    /// The home, or a directory below it: created owned by the user when missing; one that
    /// exists (the image's) is left as it is.
    func ensureDirectory(_ path: String, ownedBy user: ContainerUser) throws {
        if let existing = try root.open(path, O_PATH) {
            close(existing)
            return
        }
        let (parent, name) = try root.parent(of: path)
        defer { close(parent) }
        guard mkdirat(parent, name, 0o755) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: root.display(path)) }
        guard fchownat(parent, name, user.uid, user.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw SystemError.last("chown \(user.uid):\(user.gid)", path: root.display(path))
        }
    }

    /// The image controls these names: a FIFO must not hang the start (O_NONBLOCK opens it
    /// at once) and a device must not be read or written.
    private func read(_ path: String) throws -> String? {
        guard let descriptor = try root.open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK) else { return nil }
        defer { close(descriptor) }
        try requireRegular(descriptor, path)
        return String(decoding: try FileDescriptor.readAll(descriptor), as: UTF8.self)
    }

    private func requireRegular(_ descriptor: Int32, _ path: String) throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError.last("fstat", path: root.display(path)) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SystemError("update", path: root.display(path), errno: EINVAL, reason: "is \(FileDescriptor.kind(info.st_mode)), not a regular file")
        }
        guard info.st_size <= Self.maxSize else {
            throw SystemError("update", path: root.display(path), errno: EFBIG, reason: "is \(info.st_size) bytes, more than the \(Self.maxSize) bytes allowed for it")
        }
    }

    static let maxSize = 16 << 20

    private func write(_ path: String, _ text: String) throws {
        let parent = try root.ensureDirectory("/etc")
        close(parent)
        guard let descriptor = try root.open(path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, mode: 0o644) else {
            throw SystemError("open", path: root.display(path), errno: ENOENT)
        }
        defer { close(descriptor) }
        try requireRegular(descriptor, path)
        guard ftruncate(descriptor, 0) == 0 else { throw SystemError.last("truncate", path: root.display(path)) }
        do {
            try FileDescriptor.writeAll(descriptor, Array(text.utf8))
        } catch let error as SystemError {
            throw SystemError(error.operation, path: root.display(path), errno: error.errno)
        }
    }
}
