import CDevenvShim
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Which xattr namespace overlayfs reads whiteouts and opaque markers from. The store unpacks
/// layers with the matching prefix.
public enum OverlayXattrPrefix: String, Sendable {
    /// `trusted.overlay.*`: overlay mounted by real root, outside a user namespace.
    case trusted = "trusted.overlay."
    /// `user.overlay.*`: overlay mounted with `userxattr` inside a user namespace (Linux 5.11+).
    case user = "user.overlay."

    /// The prefix devenv's runtime uses for this process: rootless runs always get a user
    /// namespace (and `userxattr`), root runs never do.
    public static var current: OverlayXattrPrefix { geteuid() == 0 ? .trusted : .user }
}

/// An overlay mount, through the new mount API when the kernel has `lowerdir+` (Linux 6.8:
/// no option-string escaping, no one-page limit on the layer list), else through mount(2).
struct OverlayMount {
    let lowerDirs: [String]
    let upperDir: String
    let workDir: String
    let userXattr: Bool

    func mount(on target: String) throws {
        let describe = "mount overlay on \(Errno.quote(target))"
        if try mountWithFilesystemContext(on: target, describe: describe) { return }
        try Syscall.mount("overlay", target, type: "overlay", flags: 0, data: legacyOptions, describe: describe)
    }

    /// False when this kernel lacks the new API or `lowerdir+`, so the caller falls back.
    private func mountWithFilesystemContext(on target: String, describe: String) throws -> Bool {
        let context = devenv_fsopen("overlay", UInt32(DEVENV_FSOPEN_CLOEXEC))
        if context < 0 {
            if errno == ENOSYS { return false }
            throw SystemError.last(describe)
        }
        defer { close(context) }
        for directory in lowerDirs {
            if devenv_fsconfig_string(context, "lowerdir+", directory) != 0 {
                if errno == EINVAL && directory == lowerDirs.first { return false }
                throw failure(describe, context: context, object: "lower directory \(Errno.quote(directory))")
            }
        }
        guard devenv_fsconfig_string(context, "upperdir", upperDir) == 0 else {
            throw failure(describe, context: context, object: "upper directory \(Errno.quote(upperDir))")
        }
        guard devenv_fsconfig_string(context, "workdir", workDir) == 0 else {
            throw failure(describe, context: context, object: "work directory \(Errno.quote(workDir))")
        }
        if userXattr {
            guard devenv_fsconfig_flag(context, "userxattr") == 0 else { throw failure(describe, context: context, object: "userxattr") }
        }
        guard devenv_fsconfig_create(context) == 0 else { throw failure(describe, context: context, object: nil) }
        let mounted = devenv_fsmount(context, UInt32(DEVENV_FSMOUNT_CLOEXEC), 0)
        guard mounted >= 0 else { throw failure(describe, context: context, object: nil) }
        defer { close(mounted) }
        guard devenv_move_mount(mounted, "", AT_FDCWD, target, UInt32(DEVENV_MOVE_MOUNT_F_EMPTY_PATH)) == 0 else {
            throw SystemError.last(describe)
        }
        return true
    }

    /// The error plus what the kernel logged into the filesystem context (`overlay: ...`).
    private func failure(_ describe: String, context: Int32, object: String?) -> SystemError {
        let code = errno
        var operation = describe
        if let object { operation += " (\(object))" }
        let kernel = Self.contextMessages(context)
        if !kernel.isEmpty { operation += " [kernel: \(kernel)]" }
        return SystemError(operation, errno: code)
    }

    static func contextMessages(_ context: Int32) -> String {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while messages.count < 8 {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(context, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var text = String(decoding: buffer[0..<count], as: UTF8.self)
            if text.hasPrefix("e ") || text.hasPrefix("w ") || text.hasPrefix("i ") { text.removeFirst(2) }
            while text.hasSuffix("\n") { text.removeLast() }
            messages.append(text)
        }
        return messages.joined(separator: "; ")
    }

    /// `lowerdir=a:b,upperdir=...` with `\`, `:` and `,` escaped the way overlayfs parses them.
    var legacyOptions: String {
        var options = "lowerdir=" + lowerDirs.map { Self.escape($0, separators: ":,") }.joined(separator: ":")
        options += ",upperdir=" + Self.escape(upperDir, separators: ",") + ",workdir=" + Self.escape(workDir, separators: ",")
        if userXattr { options += ",userxattr" }
        return options
    }

    static func escape(_ path: String, separators: String) -> String {
        var out = ""
        for character in path {
            if character == "\\" || separators.contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
