import DevenvSystem

/// Computes the list of setup operations for a spec. Pure: no file system access.
public struct MountPlan: Hashable, Codable, Sendable {
    public var operations: [MountOperation]
    /// Host path of the new root's mount point (inside the scratch tmpfs).
    public var rootfs: String

    /// Paths Docker masks (moby `daemon/pkg/oci/defaults.go`).
    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    /// Paths Docker makes read-only.
    public static let readOnlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The device allowlist: the character devices every container gets (name, major,
    /// minor), bound from the host's /dev. Everything else a container can write to is
    /// mounted nodev (the root overlay, /dev, /dev/shm, every bind mount), so a device node
    /// made there or shipped in a layer cannot be opened; terminals come from the
    /// container's own devpts (`/dev/pts`, `/dev/ptmx -> pts/ptmx`).
    public static let devices: [(String, UInt32, UInt32)] = [
        ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
    ]

    /// Every bind mount from the host (working tree, `--mount`, cache mounts) is nosuid and
    /// nodev: a setuid binary or device node in a host directory gives nothing inside.
    public static let bindFlags: MountFlags = [.noSuid, .noDev]

    /// The tty group devpts gives new terminals when that gid is mapped.
    public static let ttyGID: UInt32 = 5

    /// - Parameters:
    ///   - scratch: the runtime directory init mounts its private tmpfs on.
    ///   - resolvConf, hosts: contents for the generated /etc files (see `NetworkFiles`).
    /// With a user namespace overlay uses `userxattr`.
    public static func compute(_ spec: ContainerSpec, scratch: String, resolvConf: String, hosts: String) throws -> MountPlan {
        try SpecValidator.validate(spec)
        let userNamespace = spec.idMapping != nil
        let rootfs = scratch + "/rootfs"
        var operations: [MountOperation] = [.makeRootPrivate, .scratchTmpfs(path: scratch), .makeScratchDirectory(path: rootfs)]

        let upperDir: String, workDir: String
        switch spec.rootfs.upper {
        case .temporary:
            upperDir = scratch + "/upper"
            workDir = scratch + "/work"
            operations += [.makeScratchDirectory(path: upperDir), .makeScratchDirectory(path: workDir)]
        case .directory(let upper, let work):
            upperDir = upper
            workDir = work
        }
        operations.append(.overlay(lowerDirs: spec.rootfs.lowerDirs, upperDir: upperDir, workDir: workDir, target: rootfs, userXattr: userNamespace))
        operations.append(.makeScratchDirectory(path: scratch + "/files"))

        operations.append(.proc(destination: "/proc"))
        operations += devOperations(spec: spec)
        for device in spec.devices {
            operations.append(.hostDevice(source: device.source, destination: try ContainerPath.normalize(device.destination, what: "device path")))
        }
        operations.append(.sysfs(destination: "/sys"))
        // The home first, so a bind below it (a dotfile, a mount under ~) finds it the user's
        // and its own parents are made the user's too, not container root's.
        operations.append(.home(user: spec.process.user))
        let home = try ContainerPath.normalize(spec.process.user.home, what: "home directory")
        for mount in spec.mounts {
            let destination = try ContainerPath.normalize(mount.destination, what: "mount destination")
            operations += userDirectories(between: home, and: destination).map { .userDirectory(path: $0, user: spec.process.user) }
            if mount.pinned == true { operations.append(.pinnedSource(path: mount.source)) }
            if let owner = mount.sourceOwner { operations.append(.giveSource(path: mount.source, owner: owner)) }
            operations.append(.bind(source: mount.source, destination: destination, readOnly: mount.readOnly))
        }
        var generatedReadOnly: [String] = []
        for (index, file) in spec.files.enumerated() {
            let destination = try ContainerPath.normalize(file.destination, what: "generated file destination")
            operations.append(.generatedFile(name: "spec-\(index)", contents: file.contents, destination: destination))
            generatedReadOnly.append(destination)
        }

        operations.append(.generatedFile(name: "hostname", contents: spec.hostname + "\n", destination: "/etc/hostname"))
        operations.append(.generatedFile(name: "hosts", contents: hosts, destination: "/etc/hosts"))
        operations.append(.generatedFile(name: "resolv.conf", contents: resolvConf, destination: "/etc/resolv.conf"))
        operations.append(.accounts(user: spec.process.user))

        operations += maskedPaths.map { .mask(path: $0) }
        operations += (readOnlyPaths + generatedReadOnly).map { .readOnly(path: $0) }
        operations.append(.pivotRoot)
        return MountPlan(operations: operations, rootfs: rootfs)
    }

    /// Container paths setup may create, empty, in the upper layer when the image lacks them
    /// (mount points and generated files), so a build that commits the upper directory can
    /// leave them out of the layer. Also the user's home directory (`.home` creates it, for
    /// root too).
    public static func mountPoints(for spec: ContainerSpec) -> [String] {
        var paths = ["/proc", "/dev", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]
        paths += (spec.mounts.map(\.destination) + spec.files.map(\.destination)).compactMap { try? ContainerPath.normalize($0, what: "mount destination") }
        paths.append(spec.process.user.home)
        return paths
    }

    /// The directories strictly between `home` and `destination`, outermost first; none when
    /// `destination` is not below `home` (both normalized).
    static func userDirectories(between home: String, and destination: String) -> [String] {
        // A user without a home (home `/`, an id the image has no account for) owns nothing
        // on the way to a mount: /run or /workspaces stay root's.
        guard home != "/", destination.hasPrefix(home + "/") else { return [] }
        var current = home
        return destination.dropFirst(home.count + 1).split(separator: "/").dropLast().map { part in
            current += "/" + part
            return current
        }
    }

    static func devOperations(spec: ContainerSpec) -> [MountOperation] {
        var operations: [MountOperation] = [.tmpfs(destination: "/dev", options: "mode=755,size=65536k", flags: [.noSuid, .noDev])]
        for (name, major, minor) in devices {
            operations.append(.device(destination: "/dev/" + name, major: major, minor: minor))
        }
        var ptsOptions = "newinstance,ptmxmode=0666,mode=0620"
        if spec.idMapping?.mapsContainerGID(ttyGID) ?? true { ptsOptions += ",gid=\(ttyGID)" }
        operations.append(.devpts(destination: "/dev/pts", options: ptsOptions))
        operations.append(.symlink(destination: "/dev/ptmx", target: "pts/ptmx"))
        operations.append(.symlink(destination: "/dev/fd", target: "/proc/self/fd"))
        operations.append(.symlink(destination: "/dev/stdin", target: "/proc/self/fd/0"))
        operations.append(.symlink(destination: "/dev/stdout", target: "/proc/self/fd/1"))
        operations.append(.symlink(destination: "/dev/stderr", target: "/proc/self/fd/2"))
        // Bounded even without a memory cgroup (tmpfs' own default is half the host's RAM).
        let shmKiB = (spec.limits.shmSize + 1023) / 1024
        operations.append(.tmpfs(destination: "/dev/shm", options: "mode=1777,size=\(shmKiB)k", flags: [.noSuid, .noDev, .noExec]))
        return operations
    }
}
