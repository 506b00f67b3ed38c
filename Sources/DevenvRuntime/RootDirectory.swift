import CDevenvShim
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The new root filesystem during setup. Every container path is resolved with
/// openat2(RESOLVE_IN_ROOT): an image's symlinks (`/workspace -> /etc`, `../../..`) resolve
/// inside the rootfs, never on the host, and magic links are refused.
struct RootDirectory {
    let descriptor: Int32
    let hostPath: String

    static let resolve = UInt64(DEVENV_RESOLVE_IN_ROOT | DEVENV_RESOLVE_NO_MAGICLINKS)

    /// Opens `path` inside the root; nil when it does not exist.
    func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws -> Int32? {
        let descriptor = devenv_openat2(self.descriptor, relative(path), UInt64(flags | O_CLOEXEC), UInt64(mode), Self.resolve)
        if descriptor >= 0 { return descriptor }
        if errno == ENOENT { return nil }
        throw SystemError.last("open", path: display(path))
    }

    /// Opens (O_PATH) the directory at `path`, creating missing components (mode 0755) where
    /// the image's symlinks lead, inside the root.
    func ensureDirectory(_ path: String) throws -> Int32 {
        if let descriptor = try open(path, O_PATH | O_DIRECTORY) { return descriptor }
        return try createDirectory(try canonical(path))
    }

    private func createDirectory(_ path: String) throws -> Int32 {
        if let descriptor = try open(path, O_PATH | O_DIRECTORY) { return descriptor }
        let (parent, name) = split(path)
        let parentDescriptor = try createDirectory(parent)
        defer { close(parentDescriptor) }
        if mkdirat(parentDescriptor, name, 0o755) != 0 && errno != EEXIST {
            throw SystemError.last("mkdir", path: display(path))
        }
        guard let descriptor = try open(path, O_PATH | O_DIRECTORY) else {
            throw SystemError("open", path: display(path), errno: ENOENT)
        }
        return descriptor
    }

    /// Opens (O_PATH) the file at `path`, creating it empty (and its parents) when missing:
    /// a mount point for a file bind.
    func ensureFile(_ path: String) throws -> Int32 {
        if let descriptor = try open(path, O_PATH) { return descriptor }
        let path = try canonical(path)
        let parent = try createDirectory(split(path).0)
        close(parent)
        guard let created = try open(path, O_WRONLY | O_CREAT | O_NOCTTY, mode: 0o644) else {
            throw SystemError("create", path: display(path), errno: ENOENT)
        }
        close(created)
        guard let descriptor = try open(path, O_PATH) else { throw SystemError("open", path: display(path), errno: ENOENT) }
        return descriptor
    }

    /// `path` with every symlink resolved inside the root, including in the part that does not
    /// exist yet (a dangling `/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf`
    /// yields `/run/systemd/resolve/stub-resolv.conf`). `..` never climbs above the root.
    func canonical(_ path: String) throws -> String {
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
        let count = readlinkat(descriptor, relativePath, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory holding `path` (created if missing) and the final component's name.
    func parent(of path: String) throws -> (Int32, String) {
        let (parent, name) = split(path)
        return (try ensureDirectory(parent), name)
    }

    func split(_ path: String) -> (String, String) {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return ("/", trimmed) }
        let parent = String(trimmed[..<slash])
        return (parent.isEmpty ? "/" : parent, String(trimmed[trimmed.index(after: slash)...]))
    }

    func relative(_ path: String) -> String {
        let stripped = path.drop { $0 == "/" }
        return stripped.isEmpty ? "." : String(stripped)
    }

    /// How messages name a container path: as the host sees it, during setup.
    func display(_ path: String) -> String { hostPath + (path.hasPrefix("/") ? path : "/" + path) }
}
