import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// A directory that paths are confined to, as if it were `/` (a chroot): every path is
/// resolved below it with openat2(RESOLVE_IN_ROOT), so a symlink, absolute or relative
/// (`/workspace -> /etc`, `../../..`), resolves inside it and never on the host, and magic
/// links (`/proc/self/fd/N`) are refused. The container's new root during setup and the
/// snapshot a layer is unpacked into are both one.
public struct RootDirectory: @unchecked Sendable {
    public let descriptor: FileDescriptor
    /// How messages name the root: its path on the host.
    public let hostPath: String
    /// False: a path that crosses a mount point below the root is refused (EXDEV). A snapshot
    /// has none of its own; a container's root gets /proc, /dev and the binds.
    public let crossesMounts: Bool

    public init(_ descriptor: FileDescriptor, hostPath: String, crossesMounts: Bool) {
        self.descriptor = descriptor
        self.hostPath = hostPath
        self.crossesMounts = crossesMounts
    }

    /// Opens the directory at `path` (on the host) as a root.
    public init(opening path: String, crossesMounts: Bool) throws {
        self.init(try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY), hostPath: path, crossesMounts: crossesMounts)
    }

    public var raw: Int32 { descriptor.raw }

    private var resolve: UInt64 {
        UInt64(DEVENV_RESOLVE_IN_ROOT | DEVENV_RESOLVE_NO_MAGICLINKS | (crossesMounts ? 0 : DEVENV_RESOLVE_NO_XDEV))
    }

    /// One openat2 of `relativePath` (no leading `/` needed) below the root, close-on-exec:
    /// the descriptor, or -1 with errno (for callers that tell ENOENT from ENOTDIR).
    public func openRaw(_ relativePath: UnsafePointer<CChar>, _ flags: Int32, mode: mode_t = 0) -> Int32 {
        devenv_openat2(descriptor.raw, relativePath, UInt64(flags | O_CLOEXEC), UInt64(mode), resolve)
    }

    /// Opens `path` inside the root; nil when it does not exist. The caller closes the result.
    public func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws -> Int32? {
        let opened = openRaw(relative(path), flags, mode: mode)
        if opened >= 0 { return opened }
        if errno == ENOENT { return nil }
        throw SystemError.last("open", path: display(path))
    }

    /// Opens (O_PATH) the directory at `path`, creating missing components (mode 0755) where
    /// the root's symlinks lead, inside the root.
    public func ensureDirectory(_ path: String) throws -> Int32 {
        if let opened = try open(path, O_PATH | O_DIRECTORY) { return opened }
        return try createDirectory(try canonical(path))
    }

    private func createDirectory(_ path: String) throws -> Int32 {
        if let opened = try open(path, O_PATH | O_DIRECTORY) { return opened }
        let (parent, name) = split(path)
        let parentDescriptor = try createDirectory(parent)
        defer { close(parentDescriptor) }
        if mkdirat(parentDescriptor, name, 0o755) != 0 && errno != EEXIST {
            throw SystemError.last("mkdir", path: display(path))
        }
        guard let opened = try open(path, O_PATH | O_DIRECTORY) else {
            throw SystemError("open", path: display(path), errno: ENOENT)
        }
        return opened
    }

    /// Opens (O_PATH) the file at `path`, creating it empty (and its parents) when missing:
    /// a mount point for a file bind.
    public func ensureFile(_ path: String) throws -> Int32 {
        if let opened = try open(path, O_PATH) { return opened }
        let path = try canonical(path)
        let parent = try createDirectory(split(path).0)
        close(parent)
        guard let created = try open(path, O_WRONLY | O_CREAT | O_NOCTTY, mode: 0o644) else {
            throw SystemError("create", path: display(path), errno: ENOENT)
        }
        close(created)
        guard let opened = try open(path, O_PATH) else { throw SystemError("open", path: display(path), errno: ENOENT) }
        return opened
    }

    /// `path` with every symlink resolved inside the root, including in the part that does not
    /// exist yet (a dangling `/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf`
    /// yields `/run/systemd/resolve/stub-resolv.conf`). `..` never climbs above the root.
    public func canonical(_ path: String) throws -> String {
        var resolved: [Substring] = []
        var pending = path.split(separator: "/")[...]
        var links = 0
        while let next = pending.popFirst() {
            if next == "." { continue }
            if next == ".." {
                _ = resolved.popLast()
                continue
            }
            // Every resolved component is a real directory, so this lookup cannot be redirected.
            let candidate = (resolved + [next]).joined(separator: "/")
            guard let target = readLink(candidate) else {
                resolved.append(next)
                continue
            }
            links += 1
            guard links <= 40 else { throw SystemError("resolve", path: display(path), errno: ELOOP) }
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/")[...] + pending
        }
        return "/" + resolved.joined(separator: "/")
    }

    private func readLink(_ relativePath: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(descriptor.raw, relativePath, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory holding `path` (created if missing) and the final component's name.
    public func parent(of path: String) throws -> (Int32, String) {
        let (parent, name) = split(path)
        return (try ensureDirectory(parent), name)
    }

    public func split(_ path: String) -> (String, String) {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return ("/", trimmed) }
        let parent = String(trimmed[..<slash])
        return (parent.isEmpty ? "/" : parent, String(trimmed[trimmed.index(after: slash)...]))
    }

    public func relative(_ path: String) -> String {
        let stripped = path.drop { $0 == "/" }
        return stripped.isEmpty ? "." : String(stripped)
    }

    /// How messages name a path inside the root: as the host sees it.
    public func display(_ path: String) -> String { hostPath + (path.hasPrefix("/") ? path : "/" + path) }
}
