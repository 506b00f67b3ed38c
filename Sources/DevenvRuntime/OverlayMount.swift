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

/// An overlay mount, through the new mount API when the kernel has `lowerdir+` (Linux 6.8),
/// else through mount(2). Every directory is opened first and handed to the kernel as
/// `/proc/self/fd/N`: store paths may hold any byte overlayfs would parse (`\`, `,`, `:`),
/// fsconfig takes at most 256 bytes per value, and mount(2)'s options one page, so real paths
/// would break long or odd store locations. Short descriptor paths fit ~200 layers in a page
/// even on the old road.
struct OverlayMount {
    let lowerDirs: [String]
    let upperDir: String
    let workDir: String
    let userXattr: Bool

    /// `flags`: mount flags for the new mount (devenv's root is nodev).
    func mount(on target: String, flags: MountFlags = []) throws {
        let describe = "mount overlay on \(Errno.quote(target))"
        var opened: [Int32] = []
        defer { for descriptor in opened { close(descriptor) } }
        for (what, directory) in lowerDirs.map({ ("lower directory", $0) }) + [("upper directory", upperDir), ("work directory", workDir)] {
            let descriptor = devenv_open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
            guard descriptor >= 0 else { throw SystemError.last("\(describe) (\(what) \(Errno.quote(directory)))") }
            opened.append(descriptor)
        }
        let paths = opened.map(Syscall.fdPath)
        let layers = Layers(lower: Array(paths.dropLast(2)), upper: paths[paths.count - 2], work: paths[paths.count - 1])
        if try mountWithFilesystemContext(layers, on: target, flags: flags, describe: describe) { return }
        try Syscall.mount("overlay", target, type: "overlay", flags: flags.systemFlags, data: legacyOptions(layers), describe: describe)
    }

    /// The paths the kernel is given, in the order of `lowerDirs`.
    struct Layers {
        var lower: [String]
        var upper: String
        var work: String
    }

    /// False when this kernel lacks the new API or `lowerdir+`, so the caller falls back.
    private func mountWithFilesystemContext(_ layers: Layers, on target: String, flags: MountFlags, describe: String) throws -> Bool {
        let context = devenv_fsopen("overlay", UInt32(DEVENV_FSOPEN_CLOEXEC))
        if context < 0 {
            if errno == ENOSYS { return false }
            throw SystemError.last(describe)
        }
        defer { close(context) }
        for (index, directory) in layers.lower.enumerated() {
            if devenv_fsconfig_string(context, "lowerdir+", directory) != 0 {
                if errno == EINVAL && index == 0 { return false }
                throw failure(describe, context: context, object: "lower directory \(Errno.quote(lowerDirs[index]))")
            }
        }
        guard devenv_fsconfig_string(context, "upperdir", layers.upper) == 0 else {
            throw failure(describe, context: context, object: "upper directory \(Errno.quote(upperDir))")
        }
        guard devenv_fsconfig_string(context, "workdir", layers.work) == 0 else {
            throw failure(describe, context: context, object: "work directory \(Errno.quote(workDir))")
        }
        if userXattr {
            guard devenv_fsconfig_flag(context, "userxattr") == 0 else { throw failure(describe, context: context, object: "userxattr") }
        }
        guard devenv_fsconfig_create(context) == 0 else { throw failure(describe, context: context, object: nil) }
        // MOUNT_ATTR_RDONLY/NOSUID/NODEV/NOEXEC have the values of the MS_ flags.
        let mounted = devenv_fsmount(context, UInt32(DEVENV_FSMOUNT_CLOEXEC), UInt32(flags.systemFlags))
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

    /// `lowerdir=a:b,upperdir=...,workdir=...` with `\`, `:` and `,` escaped the way overlayfs
    /// parses them (descriptor paths need none; the escaping keeps any path correct).
    func legacyOptions(_ layers: Layers) -> String {
        var options = "lowerdir=" + layers.lower.map { Self.escape($0, separators: ":,") }.joined(separator: ":")
        options += ",upperdir=" + Self.escape(layers.upper, separators: ",") + ",workdir=" + Self.escape(layers.work, separators: ",")
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
