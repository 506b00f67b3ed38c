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
            opened.append(try FileDescriptor.openRaw(directory, O_PATH | O_DIRECTORY, operation: "\(describe) (\(what) \(Errno.quote(directory)))"))
        }
        let paths = opened.map(descriptorPath)
        let layers = Layers(lower: Array(paths.dropLast(2)), upper: paths[paths.count - 2], work: paths[paths.count - 1])
        if try mountWithFilesystemContext(layers, on: target, flags: flags, describe: describe) { return }
        try Mount.mount("overlay", on: target, type: "overlay", flags: flags, data: legacyOptions(layers), describe: describe)
    }

    /// The paths the kernel is given, in the order of `lowerDirs`.
    struct Layers {
        var lower: [String]
        var upper: String
        var work: String
    }

    /// False when this kernel lacks the new API or `lowerdir+`, so the caller falls back.
    private func mountWithFilesystemContext(_ layers: Layers, on target: String, flags: MountFlags, describe: String) throws -> Bool {
        let context: FilesystemContext
        do {
            context = try FilesystemContext("overlay", describe: describe)
        } catch let error as SystemError where error.errno == ENOSYS {
            return false
        }
        for (index, directory) in layers.lower.enumerated() {
            let code = context.set("lowerdir+", directory)
            if code != 0 {
                if code == EINVAL && index == 0 { return false }
                throw failure(describe, code, context: context, object: "lower directory \(Errno.quote(lowerDirs[index]))")
            }
        }
        var code = context.set("upperdir", layers.upper)
        guard code == 0 else { throw failure(describe, code, context: context, object: "upper directory \(Errno.quote(upperDir))") }
        code = context.set("workdir", layers.work)
        guard code == 0 else { throw failure(describe, code, context: context, object: "work directory \(Errno.quote(workDir))") }
        if userXattr {
            code = context.set(flag: "userxattr")
            guard code == 0 else { throw failure(describe, code, context: context, object: "userxattr") }
        }
        code = context.create()
        guard code == 0 else { throw failure(describe, code, context: context, object: nil) }
        let mounted = context.mount(flags: flags)
        guard mounted >= 0 else { throw failure(describe, errno, context: context, object: nil) }
        defer { close(mounted) }
        try FilesystemContext.move(mounted, to: target, describe: describe)
        return true
    }

    /// The error plus what the kernel logged into the filesystem context (`overlay: ...`).
    private func failure(_ describe: String, _ code: Int32, context: FilesystemContext, object: String?) -> SystemError {
        var operation = describe
        if let object { operation += " (\(object))" }
        let kernel = context.messages()
        if !kernel.isEmpty { operation += " [kernel: \(kernel)]" }
        return SystemError(operation, errno: code)
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
