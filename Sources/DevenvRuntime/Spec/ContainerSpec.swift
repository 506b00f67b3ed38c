import DevenvSeccomp

/// Everything the runtime needs to start one container, as plain data. The runtime never sees
/// manifests or images: callers resolve those to absolute snapshot directories first.
public struct ContainerSpec: Hashable, Codable, Sendable {
    public var rootfs: RootfsSpec
    /// Bind mounts from the host, applied in order after the root filesystem.
    public var mounts: [BindMount]
    /// Files devenv writes (a session's git configuration), bound read-only after `mounts`.
    public var files: [GeneratedFile]
    /// Host device nodes given to the container (`--device`), bound into its /dev.
    public var devices: [DeviceBind]
    public var process: ProcessSpec
    public var hostname: String
    public var network: NetworkMode
    /// With `network = .private`: the project network whose namespaces the container is
    /// created in (the holder's network namespace and, rootless, its user namespace).
    public var privateNetwork: PrivateNetwork?
    /// The user namespace's maps; nil runs without a user namespace (only as root).
    public var idMapping: IDMapping?
    /// Raw classic-BPF seccomp program, loaded last, right before execve; nil loads none.
    public var seccomp: SeccompFilter?
    /// The bounding set, and the effective/permitted set when the command runs as uid 0
    /// (default `CapabilitySet.containerDefault`).
    public var capabilities: CapabilitySet
    /// Contents for `/etc/resolv.conf` and `/etc/hosts`; nil derives them from the host
    /// (host network) or writes minimal ones (no network).
    public var resolvConf: String?
    public var hosts: String?
    /// Memory, pids, CPU (through a cgroup, else rlimits with a warning) and the /dev/shm size.
    public var limits: ResourceLimits

    public init(rootfs: RootfsSpec, mounts: [BindMount] = [], files: [GeneratedFile] = [], devices: [DeviceBind] = [], process: ProcessSpec, hostname: String = "devenv",
                network: NetworkMode = .host, idMapping: IDMapping? = nil, seccomp: SeccompFilter? = nil,
                capabilities: CapabilitySet = .containerDefault, resolvConf: String? = nil, hosts: String? = nil,
                limits: ResourceLimits = .default) {
        self.rootfs = rootfs
        self.mounts = mounts
        self.files = files
        self.devices = devices
        self.process = process
        self.hostname = hostname
        self.network = network
        self.idMapping = idMapping
        self.seccomp = seccomp
        self.capabilities = capabilities
        self.resolvConf = resolvConf
        self.hosts = hosts
        self.limits = limits
    }
}

extension CapabilitySet {
    /// Docker's default set without CAP_MKNOD, as podman's: a device node container root
    /// made in the working tree (or a build step in a layer) would be a usable device on the
    /// host, outside every nodev mount. Rootless containers never could make one. Mask
    /// 0x00000000a00425fb.
    public static let containerDefault = CapabilitySet.dockerDefault.subtracting([.mknod])
}

/// The overlay root filesystem: image snapshot directories plus a writable upper layer.
public struct RootfsSpec: Hashable, Codable, Sendable {
    /// Absolute snapshot directories, topmost first (overlayfs `lowerdir` order).
    public var lowerDirs: [String]
    public var upper: UpperLayer

    public init(lowerDirs: [String], upper: UpperLayer = .temporary) {
        self.lowerDirs = lowerDirs
        self.upper = upper
    }
}

public enum UpperLayer: Hashable, Codable, Sendable {
    /// A tmpfs inside the container's mount namespace: discarded with it, even when devenv is
    /// SIGKILLed, and nothing is ever written to the host.
    case temporary
    /// Caller-owned directories on one filesystem (work must be empty); kept after the run so a
    /// build can commit the upper directory as a layer.
    case directory(upper: String, work: String)

    public var keepsUpper: Bool {
        if case .directory = self { return true }
        return false
    }
}

public struct BindMount: Hashable, Codable, Sendable {
    public var source: String
    public var destination: String
    public var readOnly: Bool
    /// The container user the source's owner appears as (a devcontainer's `remoteUser`
    /// writing the working tree); nil: container root acts as the owner (docs/runtime.md,
    /// "Device policy and mount flags"). Only as root: rootless there is no idmapped mount.
    public var ownerAppearsAs: MountOwner?
    /// A service's named volume in the store (private to its user): bound as it is, its files
    /// keeping the ids the container gave them, so a service may chown its data to its own
    /// user. nil or false: the owner rule above applies.
    public var keepsOwners: Bool?
    /// Setup gives the source, a regular file or a directory devenv made for this container
    /// user alone (a build secret, a persistent home), to this user before binding it: a chown by the container's root,
    /// in its user namespace rootless, where no idmapped mount could hand it over.
    public var sourceOwner: MountOwner?
    /// The source is a path the planner resolved and checked (inside the working tree, which
    /// containers may write): setup refuses it when it no longer resolves to itself.
    public var pinned: Bool?

    public init(source: String, destination: String, readOnly: Bool = false, ownerAppearsAs: MountOwner? = nil, keepsOwners: Bool? = nil,
                sourceOwner: MountOwner? = nil) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.ownerAppearsAs = ownerAppearsAs
        self.keepsOwners = keepsOwners
        self.sourceOwner = sourceOwner
    }
}

/// A file with the given contents at a container path, read-only: generated in the
/// container's private scratch tmpfs, never on the host.
public struct GeneratedFile: Hashable, Codable, Sendable {
    public var destination: String
    public var contents: String

    public init(destination: String, contents: String) {
        self.destination = destination
        self.contents = contents
    }
}

/// A host device node at a path in the container's /dev: a bind of the node (never mknod,
/// which no container gets), so it works rootless too, as podman does. Setup checks that
/// the source is a character or block device. Read-write: a read-only mount does not stop
/// writes to a device node, and there is no device cgroup to (rootless there cannot be one).
public struct DeviceBind: Hashable, Codable, Sendable {
    public var source: String
    public var destination: String

    public init(source: String, destination: String) {
        self.source = source
        self.destination = destination
    }

    /// Permissions (`rwm` letters) a device can be given here: read and write (`m` is
    /// meaningless: no container can mknod). nil when fine, else the reason.
    public static func permissionsProblem(_ permissions: String) -> String? {
        guard !permissions.isEmpty, permissions.allSatisfy({ "rwm".contains($0) }) else { return "permissions are letters of 'rwm'" }
        guard permissions.contains("r"), permissions.contains("w") else {
            return "devenv cannot restrict a device to '\(permissions)' (a read-only mount does not stop writes to a device node, and there is no device cgroup); give 'rw'"
        }
        return nil
    }
}

/// Container ids a bind source's owner appears as.
public struct MountOwner: Hashable, Codable, Sendable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

public enum NetworkMode: String, Hashable, Codable, Sendable, CaseIterable {
    /// The host's network namespace.
    case host
    /// A fresh network namespace with only the loopback interface, brought up.
    case none
    /// A project's own network namespace (loopback only) that its services and sessions
    /// share, held by a `NetworkHolder` that forwards published ports from the host's loopback.
    case `private`
}

/// The command to run and who runs it.
public struct ProcessSpec: Hashable, Codable, Sendable {
    public var args: [String]
    /// Tried in order when `args[0]` is not found (the shell: `$SHELL`, else bash, else sh).
    public var fallbackExecutables: [String]
    /// `KEY=VALUE` entries.
    public var environment: [String]
    public var workingDirectory: String
    public var user: ContainerUser
    /// Run on a pseudo-terminal relayed to the caller's terminal.
    public var terminal: Bool

    public init(args: [String], fallbackExecutables: [String] = [], environment: [String] = [],
                workingDirectory: String = "/", user: ContainerUser = .root, terminal: Bool = false) {
        self.args = args
        self.fallbackExecutables = fallbackExecutables
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.terminal = terminal
    }
}

/// The container user: ids as seen inside the container, plus the passwd/group entries devenv
/// generates when the image lacks them.
public struct ContainerUser: Hashable, Codable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var name: String
    public var groupName: String
    public var home: String
    public var shell: String
    public var additionalGIDs: [UInt32]

    public init(uid: UInt32, gid: UInt32, name: String, groupName: String? = nil, home: String, shell: String = "/bin/sh", additionalGIDs: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.name = name
        self.groupName = groupName ?? name
        self.home = home
        self.shell = shell
        self.additionalGIDs = additionalGIDs
    }

    public static let root = ContainerUser(uid: 0, gid: 0, name: "root", home: "/root")
}

/// A classic BPF program (`struct sock_filter[]`, 8 bytes per instruction, native byte order).
public struct SeccompFilter: Hashable, Codable, Sendable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var instructionCount: Int { bytes.count / 8 }
}
