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

    func ensureHome(_ user: ContainerUser) throws {
        if let existing = try root.open(user.home, O_PATH) {
            close(existing)
            return
        }
        let (parent, name) = try root.parent(of: user.home)
        defer { close(parent) }
        guard mkdirat(parent, name, 0o755) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: root.display(user.home)) }
        guard fchownat(parent, name, user.uid, user.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw SystemError.last("chown \(user.uid):\(user.gid)", path: root.display(user.home))
        }
    }

    private func read(_ path: String) throws -> String? {
        guard let descriptor = try root.open(path, O_RDONLY | O_NOCTTY) else { return nil }
        defer { close(descriptor) }
        return String(decoding: try Syscall.readAll(descriptor), as: UTF8.self)
    }

    private func write(_ path: String, _ text: String) throws {
        let parent = try root.ensureDirectory("/etc")
        close(parent)
        guard let descriptor = try root.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode: 0o644) else {
            throw SystemError("open", path: root.display(path), errno: ENOENT)
        }
        defer { close(descriptor) }
        do {
            try Syscall.writeAll(descriptor, Array(text.utf8))
        } catch let error as SystemError {
            throw SystemError(error.operation, path: root.display(path), errno: error.errno)
        }
    }
}
