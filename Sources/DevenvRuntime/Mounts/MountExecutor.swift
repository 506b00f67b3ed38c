import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Interprets a `MountPlan` inside the container's fresh mount namespace (in `devenv __init`),
/// making its mount calls through `calls` (`LinuxMountCalls`; tests record them).
struct MountExecutor<Calls: MountCalls> {
    let plan: MountPlan
    let calls: Calls
    /// Host objects opened (O_PATH) before anything is mounted, so a later mount cannot hide or
    /// swap them: bind sources, device nodes, /sys, /dev/null.
    private var sources: [String: Int32] = [:]
    /// Bind sources to idmap, with the user namespace descriptor for each.
    let idmappedSources: [String: Int32]
    private var root: RootDirectory?
    private var scratch = ""

    init(plan: MountPlan, idmappedSources: [String: Int32] = [:], calls: Calls) {
        self.plan = plan
        self.idmappedSources = idmappedSources
        self.calls = calls
    }

    mutating func run() throws {
        try openSources()
        defer { for descriptor in sources.values { close(descriptor) } }
        defer { root = nil }
        for operation in plan.operations { try apply(operation) }
    }

    private mutating func openSources() throws {
        for operation in plan.operations {
            switch operation {
            case .bind(let source, _, _): try openSource(source)
            case .pinnedSource(let path):
                try openSource(path)
                try Self.requireResolves(sources[path]!, to: path)
            case .device(let destination, let major, let minor):
                try openSource(destination)
                try Self.requireCharacterDevice(sources[destination]!, path: destination, major: major, minor: minor)
            case .hostDevice(let source, _):
                try openSource(source)
                try Self.requireDevice(sources[source]!, path: source)
            case .sysfs: try openSource("/sys")
            case .mask: try openSource("/dev/null")
            default: break
            }
        }
    }

    /// The host's /dev entry must be the allowed device itself, not whatever a host (or a
    /// container devenv runs in) put at that name.
    static func requireCharacterDevice(_ descriptor: Int32, path: String, major: UInt32, minor: UInt32) throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError.last("stat", path: path) }
        guard (info.st_mode & S_IFMT) == S_IFCHR, info.st_rdev == DeviceNumber.make(major: major, minor: minor) else {
            throw SystemError("bind device \(path): the host's node is not the character device \(major):\(minor)", errno: ENODEV)
        }
    }

    /// `--device` takes device nodes only: a directory or file there would be a bind without nodev.
    static func requireDevice(_ descriptor: Int32, path: String) throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError.last("stat", path: path) }
        let type = info.st_mode & S_IFMT
        guard type == S_IFCHR || type == S_IFBLK else {
            throw SystemError("bind device \(Errno.quote(path)): not a character or block device", errno: ENODEV)
        }
    }

    /// Only what devenv made for the container: a file with one link (no other name of it
    /// changes owner) or a directory, itself and not what it holds.
    static func give(_ descriptor: Int32, path: String, to owner: MountOwner) throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError.last("stat", path: path) }
        let kind = info.st_mode & S_IFMT
        guard (kind == S_IFREG && info.st_nlink == 1) || kind == S_IFDIR else {
            throw SystemError("give \(Errno.quote(path)) to \(owner.uid):\(owner.gid): not a regular file with one link or a directory", errno: EINVAL)
        }
        if info.st_uid == owner.uid && info.st_gid == owner.gid { return }
        guard fchownat(descriptor, "", owner.uid, owner.gid, AT_EMPTY_PATH) == 0 else {
            throw SystemError.last("chown \(owner.uid):\(owner.gid)", path: path)
        }
    }

    /// The opened source is what gets bound: checked here, nothing can swap it afterwards.
    static func requireResolves(_ descriptor: Int32, to path: String) throws {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        let resolved = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        guard resolved == path else {
            throw SystemError("mount source \(Errno.quote(path)) now leads to \(Errno.quote(resolved)) (a symlink was put in its way since it was checked)",
                              errno: ELOOP)
        }
    }

    private mutating func openSource(_ path: String) throws {
        guard sources[path] == nil else { return }
        sources[path] = try FileDescriptor.openRaw(path, O_PATH, operation: "open mount source")
    }

    private mutating func apply(_ operation: MountOperation) throws {
        switch operation {
        case .makeRootPrivate:
            try calls.mount(nil, on: "/", type: nil, flags: [.recursive, .private], data: nil, describe: "make / private")
        case .scratchTmpfs(let path):
            scratch = path
            try calls.mount("tmpfs", on: path, type: "tmpfs", flags: [.noSuid, .noDev], data: "mode=0700", describe: "mount tmpfs on \(Errno.quote(path))")
        case .makeScratchDirectory(let path):
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: path) }
        case .overlay(let lowerDirs, let upperDir, let workDir, let target, let userXattr):
            try calls.mountOverlay(OverlayMount(lowerDirs: lowerDirs, upperDir: upperDir, workDir: workDir, userXattr: userXattr), on: target, flags: [.noDev])
            let descriptor = try FileDescriptor.openRaw(target, O_PATH | O_DIRECTORY)
            root = RootDirectory(FileDescriptor(adopting: descriptor), hostPath: target, crossesMounts: true)
        case .proc(let destination):
            try mountFresh("proc", type: "proc", at: destination, flags: [.noSuid, .noDev, .noExec], data: nil)
        case .tmpfs(let destination, let options, let flags):
            try mountFresh("tmpfs", type: "tmpfs", at: destination, flags: flags, data: options)
        case .device(let destination, _, _):
            try bindDevice(destination)
        case .hostDevice(let source, let destination):
            try bind(sources[source]!, sourcePath: source, to: destination, flags: [.noSuid])
        case .devpts(let destination, let options):
            try mountDevpts(destination, options: options)
        case .symlink(let destination, let target):
            let root = try rootfs()
            let (parent, name) = try root.parent(of: destination)
            defer { close(parent) }
            guard symlinkat(target, parent, name) == 0 else { throw SystemError.last("symlink", path: root.display(destination)) }
        case .sysfs(let destination):
            try mountSysfs(destination)
        case .pinnedSource:
            break
        case .giveSource(let path, let owner):
            try Self.give(sources[path]!, path: path, to: owner)
        case .bind(let source, let destination, let readOnly):
            let flags = readOnly ? MountPlan.bindFlags.union(.readOnly) : MountPlan.bindFlags
            if let userNamespace = idmappedSources[source] {
                try bindIdmapped(sources[source]!, sourcePath: source, to: destination, flags: flags, userNamespace: userNamespace)
            } else {
                try bind(sources[source]!, sourcePath: source, to: destination, flags: flags)
            }
        case .generatedFile(let name, let contents, let destination):
            let path = scratch + "/files/" + name
            try writeScratchFile(path, contents)
            try openSource(path)
            // The scratch tmpfs is nosuid and nodev already, and a bind keeps its flags.
            try bind(sources[path]!, sourcePath: path, to: destination, flags: [])
        case .accounts(let user):
            try AccountFiles(root: rootfs()).ensure(user)
        case .home(let user):
            try AccountFiles(root: rootfs()).ensureDirectory(user.home, ownedBy: user)
        case .userDirectory(let path, let user):
            try AccountFiles(root: rootfs()).ensureDirectory(path, ownedBy: user)
        case .mask(let path):
            try mask(path)
        case .readOnly(let path):
            try makeReadOnly(path)
        case .pivotRoot:
            try pivot()
        }
    }

    private func writeScratchFile(_ path: String, _ contents: String) throws {
        let file = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        try file.writeAll(Array(contents.utf8), path: path)
    }

    private func rootfs() throws -> RootDirectory {
        guard let root else { throw SystemError("resolve", path: "rootfs (not mounted yet)", errno: EINVAL) }
        return root
    }

    private func mountFresh(_ source: String, type: String, at destination: String, flags: MountFlags, data: String?) throws {
        let root = try rootfs()
        let target = try root.ensureDirectory(destination)
        defer { close(target) }
        try calls.mount(source, on: descriptorPath(target), type: type, flags: flags, data: data,
                          describe: "mount \(type) on \(Errno.quote(root.display(destination)))")
    }

    /// A bind mount keeps the flags of the host's /dev (not nodev), so the node works inside the
    /// nodev /dev tmpfs, as root and in a user namespace alike.
    private func bindDevice(_ destination: String) throws {
        let root = try rootfs()
        let target = try root.ensureFile(destination)
        defer { close(target) }
        try calls.mount(descriptorPath(sources[destination]!), on: descriptorPath(target), type: nil, flags: .bind, data: nil,
                        describe: "bind \(destination) on \(Errno.quote(root.display(destination)))")
    }

    private func mountDevpts(_ destination: String, options: String) throws {
        do {
            try mountFresh("devpts", type: "devpts", at: destination, flags: [.noSuid, .noExec], data: options)
        } catch let error as SystemError where error.errno == EINVAL && options.contains(",gid=") {
            // Kernels that reject gid= for an unmapped group: terminals then keep the user's group.
            let withoutGID = options.split(separator: ",").filter { !$0.hasPrefix("gid=") }.joined(separator: ",")
            try mountFresh("devpts", type: "devpts", at: destination, flags: [.noSuid, .noExec], data: withoutGID)
        }
    }

    private func mountSysfs(_ destination: String) throws {
        do {
            try mountFresh("sysfs", type: "sysfs", at: destination, flags: [.readOnly, .noSuid, .noDev, .noExec], data: nil)
        } catch let error as SystemError where error.errno == EPERM {
            // A user namespace may only mount sysfs with its own network namespace; share the
            // host's, read-only.
            try bind(sources["/sys"]!, sourcePath: "/sys", to: destination, flags: [.readOnly, .noSuid, .noDev, .noExec])
        }
    }

    /// A recursive bind, then `flags` on it and every mount below it.
    private func bind(_ source: Int32, sourcePath: String, to destination: String, flags: MountFlags) throws {
        let root = try rootfs()
        var info = stat()
        guard fstat(source, &info) == 0 else { throw SystemError.last("stat", path: sourcePath) }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        let target = isDirectory ? try root.ensureDirectory(destination) : try root.ensureFile(destination)
        defer { close(target) }
        let describe = "bind \(Errno.quote(sourcePath)) on \(Errno.quote(root.display(destination)))"
        try calls.mount(descriptorPath(source), on: descriptorPath(target), type: nil, flags: [.bind, .recursive], data: nil, describe: describe)
        guard !flags.isEmpty else { return }
        // The old descriptor names the covered directory; reopen to reach the new mount.
        guard let mounted = try root.open(destination, O_PATH) else { throw SystemError("open", path: root.display(destination), errno: ENOENT) }
        defer { close(mounted) }
        try calls.restrict(mounted, flags, describe: "make \(Errno.quote(root.display(destination))) \(flags.optionNames)")
    }

    /// The same bind, cloned (open_tree), idmapped and given `flags` before it is attached, so
    /// the container never sees it unmapped. Fails closed where the file system cannot idmap.
    private func bindIdmapped(_ source: Int32, sourcePath: String, to destination: String, flags: MountFlags, userNamespace: Int32) throws {
        let root = try rootfs()
        var info = stat()
        guard fstat(source, &info) == 0 else { throw SystemError.last("stat", path: sourcePath) }
        let target = (info.st_mode & S_IFMT) == S_IFDIR ? try root.ensureDirectory(destination) : try root.ensureFile(destination)
        defer { close(target) }
        try calls.bindIdmapped(source, onto: target, flags: flags, userNamespace: userNamespace,
                               describe: "bind \(Errno.quote(sourcePath)) on \(Errno.quote(root.display(destination))) \(OwnerMappedMounts.stage)")
    }

    private func mask(_ path: String) throws {
        let root = try rootfs()
        guard let target = try root.open(path, O_PATH | O_NOFOLLOW) else { return }
        defer { close(target) }
        var info = stat()
        guard fstat(target, &info) == 0 else { throw SystemError.last("stat", path: root.display(path)) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try calls.mount("tmpfs", on: descriptorPath(target), type: "tmpfs", flags: [.readOnly, .noSuid, .noDev, .noExec], data: "size=0",
                            describe: "mask \(Errno.quote(root.display(path)))")
        } else {
            try calls.mount(descriptorPath(sources["/dev/null"]!), on: descriptorPath(target), type: nil, flags: .bind, data: nil,
                            describe: "mask \(Errno.quote(root.display(path)))")
        }
    }

    private func makeReadOnly(_ path: String) throws {
        let root = try rootfs()
        guard let target = try root.open(path, O_PATH | O_NOFOLLOW) else { return }
        let describe = "make \(Errno.quote(root.display(path))) read-only"
        do {
            defer { close(target) }
            try calls.mount(descriptorPath(target), on: descriptorPath(target), type: nil, flags: [.bind, .recursive], data: nil, describe: describe)
        }
        guard let mounted = try root.open(path, O_PATH | O_NOFOLLOW) else { throw SystemError("open", path: root.display(path), errno: ENOENT) }
        defer { close(mounted) }
        try calls.restrict(mounted, .readOnly, describe: describe)
    }

    private func pivot() throws {
        try calls.pivotRoot(into: try rootfs())
    }
}
