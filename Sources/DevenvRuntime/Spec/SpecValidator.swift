import DevenvText

/// Checks a spec before anything is started, so mistakes surface as clear messages instead of
/// an opaque EINVAL from mount(2) half way through setup.
public enum SpecValidator {
    /// overlayfs refuses more lower layers than this (`OVL_MAX_STACK`); devenv's documented limit.
    public static let maxLowerDirs = 500
    /// `BPF_MAXINSNS`: the kernel's limit for one classic BPF program.
    public static let maxFilterInstructions = 4096

    public static func validate(_ spec: ContainerSpec) throws {
        try validateRootfs(spec.rootfs)
        for mount in spec.mounts { try validateMount(mount) }
        for file in spec.files { try validateDestination(file.destination) }
        for device in spec.devices { try validateDevice(device) }
        try validateProcess(spec.process, idMapping: spec.idMapping)
        try validateHostname(spec.hostname)
        if let filter = spec.seccomp {
            guard !filter.bytes.isEmpty, filter.bytes.count % 8 == 0, filter.instructionCount <= maxFilterInstructions else {
                throw RuntimeError.invalid("seccomp filter: \(filter.bytes.count) bytes is not a BPF program of 1 to \(maxFilterInstructions) instructions")
            }
        }
        if spec.capabilities.contains(.sysAdmin) {
            throw RuntimeError.invalid("capabilities: CAP_SYS_ADMIN is never granted (it disables most seccomp protections)")
        }
        if spec.capabilities.contains(.mknod) {
            throw RuntimeError.invalid("capabilities: CAP_MKNOD is never granted (a device node made in the working tree or a build layer is a device on the host)")
        }
        if let mapping = spec.idMapping {
            guard !mapping.uids.isEmpty, !mapping.gids.isEmpty else { throw RuntimeError.invalid("id mapping: empty uid or gid map") }
        }
        if spec.privateNetwork != nil && spec.network != .private {
            throw RuntimeError.invalid("network: only a private network has a holder")
        }
    }

    static func validateRootfs(_ rootfs: RootfsSpec) throws {
        guard !rootfs.lowerDirs.isEmpty else { throw RuntimeError.invalid("rootfs: no lower directories") }
        guard rootfs.lowerDirs.count <= maxLowerDirs else {
            throw RuntimeError.invalid("rootfs: \(rootfs.lowerDirs.count) layers exceed the limit of \(maxLowerDirs) overlay lower directories")
        }
        for directory in rootfs.lowerDirs { try requireHostPath(directory, what: "rootfs lower directory") }
        if case .directory(let upper, let work) = rootfs.upper {
            try requireHostPath(upper, what: "upper directory")
            try requireHostPath(work, what: "work directory")
        }
    }

    static func validateMount(_ mount: BindMount) throws {
        try requireHostPath(mount.source, what: "mount source")
        try validateDestination(mount.destination)
    }

    /// A device goes into /dev, beside (not over) what devenv puts there itself.
    static func validateDevice(_ device: DeviceBind) throws {
        try requireHostPath(device.source, what: "device")
        let destination = try ContainerPath.normalize(device.destination, what: "device path")
        guard destination.hasPrefix("/dev/") else { throw RuntimeError.invalid("device path \(quote(destination)): must be in /dev") }
        let managed = ["/dev/pts", "/dev/shm", "/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"] + MountPlan.devices.map { "/dev/" + $0.0 }
        for path in managed where destination == path || destination.hasPrefix(path + "/") {
            throw RuntimeError.invalid("device path \(quote(destination)): \(path) is managed by devenv")
        }
    }

    /// Where a bind or a generated file goes: never `/`, nor into what devenv mounts itself.
    static func validateDestination(_ path: String) throws {
        let destination = try ContainerPath.normalize(path, what: "mount destination")
        guard destination != "/" else { throw RuntimeError.invalid("mount destination: cannot mount over /") }
        for reserved in ["/proc", "/sys", "/dev"] where destination == reserved || destination.hasPrefix(reserved + "/") {
            throw RuntimeError.invalid("mount destination \(quote(destination)): \(reserved) is managed by devenv")
        }
    }

    static func validateProcess(_ process: ProcessSpec, idMapping: IDMapping?) throws {
        guard let first = process.args.first, !first.isEmpty else { throw RuntimeError.invalid("command: empty") }
        for argument in process.args + process.fallbackExecutables where argument.utf8.contains(0) {
            throw RuntimeError.invalid("command: argument \(quote(argument)) contains a NUL byte")
        }
        for entry in process.environment {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex, !entry.utf8.contains(0) else {
                throw RuntimeError.invalid("environment: \(quote(entry)) is not KEY=VALUE")
            }
        }
        _ = try ContainerPath.normalize(process.workingDirectory, what: "working directory")
        let user = process.user
        for (field, value) in [("name", user.name), ("group name", user.groupName), ("shell", user.shell)] {
            guard !value.isEmpty, !value.contains(":"), !value.contains("\n"), !value.utf8.contains(0) else {
                throw RuntimeError.invalid("user \(field) \(quote(value)) cannot appear in /etc/passwd")
            }
        }
        _ = try ContainerPath.normalize(user.home, what: "home directory")
        guard !user.home.contains(":") else { throw RuntimeError.invalid("home directory \(quote(user.home)) cannot appear in /etc/passwd") }
        if let idMapping {
            guard IDMapping.lookupContainer(user.uid, in: idMapping.uids), IDMapping.lookupContainer(user.gid, in: idMapping.gids) else {
                throw RuntimeError.invalid("user \(user.uid):\(user.gid) is not mapped in the container's user namespace")
            }
        }
    }

    static func validateHostname(_ name: String) throws {
        let valid = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d || byte == 0x2e
        }
        guard valid else { throw RuntimeError.invalid("hostname \(quote(name)): use 1-64 letters, digits, '-' or '.'") }
    }

    /// PATH_MAX: the kernel refuses longer path arguments (ENAMETOOLONG).
    public static let maxHostPathBytes = 4095

    static func requireHostPath(_ path: String, what: String) throws {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw RuntimeError.invalid("\(what) \(quote(path)) must be an absolute path")
        }
        guard path.utf8.count <= maxHostPathBytes else {
            throw RuntimeError(.invalidSpec, "\(what) \(quote(String(path.prefix(80))))… is \(path.utf8.count) bytes long, over the kernel's limit of \(maxHostPathBytes)",
                               hint: "use a shorter path (for the working tree: run from a shallower directory or pass --mount-dir)")
        }
    }

    static func quote(_ text: String) -> String { ContainerPath.quote(text) }
}

extension IDMapping {
    static func lookupContainer(_ id: UInt32, in entries: [IDMapEntry]) -> Bool {
        entries.contains { UInt64(id) >= UInt64($0.containerID) && UInt64(id) < UInt64($0.containerID) + UInt64($0.count) }
    }
}

/// Container-side paths: absolute, no `..`, normalised.
public enum ContainerPath {
    public static func normalize(_ path: String, what: String) throws -> String {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw RuntimeError.invalid("\(what) \(quote(path)) must be an absolute container path")
        }
        var parts: [Substring] = []
        for component in path.split(separator: "/") where component != "." {
            guard component != ".." else { throw RuntimeError.invalid("\(what) \(quote(path)) must not contain '..'") }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Quotes untrusted text for a message, escaping control characters.
    public static func quote(_ text: String) -> String { Printable.quoted(text, mark: "\"") }
}
