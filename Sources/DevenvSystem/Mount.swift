import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// The mount calls container setup makes, each throwing a `SystemError` whose operation is
/// `describe` (what is mounted where) and whose errno is the kernel's.
public enum Mount {
    public static func mount(_ source: String?, on target: String, type: String?, flags: MountFlags, data: String?, describe: String) throws {
        guard devenv_mount(source, target, type, flags.systemFlags, data) == 0 else { throw SystemError.last(describe) }
    }

    /// Adds `flags` to the mount at `descriptor` and every mount below it, with
    /// mount_setattr(2). Before Linux 5.12 only the top mount can be remounted (keeping the
    /// flags a user namespace locks).
    public static func restrict(_ descriptor: Int32, _ flags: MountFlags, describe: String) throws {
        let empty: UInt32 = 0x1000 | UInt32(DEVENV_AT_RECURSIVE)  // AT_EMPTY_PATH (behind _GNU_SOURCE)
        if devenv_mount_setattr(descriptor, "", empty, flags.attributes, 0) == 0 { return }
        guard errno == ENOSYS else { throw SystemError.last(describe) }
        var info = statvfs()
        guard fstatvfs(descriptor, &info) == 0 else { throw SystemError.last(describe) }
        let kept = MountFlags(rawValue: UInt32(truncatingIfNeeded: info.f_flag)).intersection(.locked)
        try mount(nil, on: descriptorPath(descriptor), type: nil, flags: flags.union([.bind, .remount]).union(kept), data: nil, describe: describe)
    }

    /// open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) of `source`, idmapped through
    /// `userNamespace` with `flags` set, then moved onto `target`.
    public static func bindIdmapped(_ source: Int32, onto target: Int32, flags: MountFlags, userNamespace: Int32, describe: String) throws {
        guard devenv_bind_idmapped(source, target, flags.attributes, userNamespace) == 0 else { throw SystemError.last(describe) }
    }

    /// pivot_root(2) from the current directory.
    public static func pivotRoot(_ newRoot: String, putOld: String, describe: String, path: String? = nil) throws {
        guard devenv_pivot_root(newRoot, putOld) == 0 else { throw SystemError.last(describe, path: path) }
    }

    /// umount2(MNT_DETACH): lazily, so busy mounts go too.
    public static func detach(_ target: String, describe: String) throws {
        guard devenv_umount2(target, 2) == 0 else { throw SystemError.last(describe) }
    }

    /// A user namespace with the given uid_map/gid_map text, held by the returned descriptor.
    public static func userNamespace(uidMap: String, gidMap: String, describe: String) throws -> FileDescriptor {
        let descriptor = devenv_userns_with_maps(uidMap, gidMap)
        guard descriptor >= 0 else { throw SystemError.last(describe) }
        return FileDescriptor(adopting: descriptor)
    }
}

/// A filesystem context of the new mount API (fsopen(2), fsconfig(2), fsmount(2),
/// move_mount(2)). The calls return the errno so callers can fall back on old kernels; the
/// kernel's own messages about a failure are in `messages()`.
public final class FilesystemContext {
    public let descriptor: FileDescriptor

    /// Throws with ENOSYS when the kernel has no new mount API.
    public init(_ filesystem: String, describe: String) throws {
        let raw = devenv_fsopen(filesystem, UInt32(DEVENV_FSOPEN_CLOEXEC))
        guard raw >= 0 else { throw SystemError.last(describe) }
        descriptor = FileDescriptor(adopting: raw)
    }

    /// 0 or the errno.
    public func set(_ key: String, _ value: String) -> Int32 { devenv_fsconfig_string(descriptor.raw, key, value) == 0 ? 0 : errno }
    public func set(flag key: String) -> Int32 { devenv_fsconfig_flag(descriptor.raw, key) == 0 ? 0 : errno }
    public func create() -> Int32 { devenv_fsconfig_create(descriptor.raw) == 0 ? 0 : errno }

    /// The new mount, detached, with `flags` as its attributes; -1 with errno.
    public func mount(flags: MountFlags) -> Int32 {
        devenv_fsmount(descriptor.raw, UInt32(DEVENV_FSMOUNT_CLOEXEC), UInt32(flags.attributes))
    }

    /// Attaches a detached mount at `target`.
    public static func move(_ mounted: Int32, to target: String, describe: String) throws {
        guard devenv_move_mount(mounted, "", AT_FDCWD, target, UInt32(DEVENV_MOVE_MOUNT_F_EMPTY_PATH)) == 0 else {
            throw SystemError.last(describe)
        }
    }

    /// What the kernel logged into the context (`overlay: ...`), up to eight messages.
    public func messages() -> String {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while messages.count < 8 {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor.raw, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var text = String(decoding: buffer[0..<count], as: UTF8.self)
            if text.hasPrefix("e ") || text.hasPrefix("w ") || text.hasPrefix("i ") { text.removeFirst(2) }
            while text.hasSuffix("\n") { text.removeLast() }
            messages.append(text)
        }
        return messages.joined(separator: "; ")
    }
}
