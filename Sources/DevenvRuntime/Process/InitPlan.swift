import DevenvSystem
import FoundationEssentials

/// What the parent sends `devenv __init` (as JSON on fd 3): the mount operations, namespace
/// settings and the command with its credentials. Computed purely from a `ContainerSpec`.
struct InitPlan: Codable, Equatable {
    var mounts: MountPlan
    var hostname: String?
    var loopbackUp: Bool
    /// nil when init only performs the mounts and exits (doctor's overlay probe).
    var process: InitProcess?
    /// setgroups(2) is denied in a user namespace whose gid map was written without newgidmap.
    var setgroupsAllowed: Bool
    /// init was moved into the container's cgroup after clone and enters a new cgroup
    /// namespace rooted there, so the container sees its cgroup as `/`.
    var newCgroupNamespace = false
    /// Bind mount sources that are idmapped, and the descriptor of the user namespace for
    /// each (see `OwnerMappedMounts`).
    var idmappedSources: [String: Int32] = [:]
    /// An environment's init: after setup it starts no command and stays as the namespaces'
    /// PID 1 until stopped, while sessions join (`KeeperInit`).
    var keep = false
    /// Rootless, the keeper becomes a fresh image of this static executable once setup is done
    /// (`KeeperInit.exec`); the descriptor is a passed one.
    var keeperExecutable: Int32?
    /// A service's init: after setup it runs and supervises this command (`ServiceSupervisor`).
    var service: ServiceSupervision?
    /// A joining session: the namespaces of a running container to enter, user first (then no
    /// mounts are made; the mount namespace brings the container's root).
    var joins: [NamespaceJoin] = []

    /// Descriptor numbers inside init, placed there by the spawn shim; passed descriptors
    /// (`InitLauncher.passedFDs`) follow from `firstPassedFD`.
    static let channelFD: Int32 = 3
    static let reportFD: Int32 = 4
    static let firstPassedFD: Int32 = 5

    /// The plan travels as a 4-byte little-endian length and the JSON; end of input comes
    /// later, once init sits in its cgroup.
    static func frame(_ length: Int) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) }
    }

    static func receive(from descriptor: Int32) throws -> InitPlan {
        let header = try FileDescriptor.readExactly(descriptor, count: 4)
        let length = header.enumerated().reduce(0) { $0 | Int($1.element) << ($1.offset * 8) }
        return try JSONDecoder().decode(InitPlan.self, from: Data(try FileDescriptor.readExactly(descriptor, count: length)))
    }

    static func make(_ spec: ContainerSpec, scratch: String, resolvConf: String, hosts: String, setgroupsAllowed: Bool) throws -> InitPlan {
        let mounts = try MountPlan.compute(spec, scratch: scratch, resolvConf: resolvConf, hosts: hosts)
        return InitPlan(mounts: mounts, hostname: spec.hostname, loopbackUp: spec.network == .none,
                        process: try InitProcess.make(spec), setgroupsAllowed: setgroupsAllowed)
    }
}

extension InitProcess {
    /// The command part of a spec: what init starts, or what a joining session runs.
    static func make(_ spec: ContainerSpec) throws -> InitProcess {
        let process = spec.process
        let ttyGID = (spec.idMapping?.mapsContainerGID(MountPlan.ttyGID) ?? true) ? MountPlan.ttyGID : process.user.gid
        return InitProcess(
            args: process.args, fallbackExecutables: process.fallbackExecutables, environment: process.environment,
            workingDirectory: try ContainerPath.normalize(process.workingDirectory, what: "working directory"),
            uid: process.user.uid, gid: process.user.gid, additionalGIDs: process.user.additionalGIDs,
            bounding: spec.capabilities.bitmask,
            effective: process.user.uid == 0 ? spec.capabilities.bitmask : 0,
            seccomp: spec.seccomp.map { Data($0.bytes) }, terminal: process.terminal, terminalGID: ttyGID)
    }
}

/// A namespace descriptor passed to a joining init, and what it is (for messages).
struct NamespaceJoin: Codable, Equatable {
    var descriptor: Int32
    var kind: String
}

struct InitProcess: Codable, Equatable {
    var args: [String]
    var fallbackExecutables: [String]
    var environment: [String]
    var workingDirectory: String
    var uid: UInt32
    var gid: UInt32
    var additionalGIDs: [UInt32]
    /// Capability bounding set; effective = permitted = `effective`; inheritable and ambient empty.
    var bounding: UInt64
    var effective: UInt64
    var seccomp: Data?
    var terminal: Bool
    /// Group owning the terminal (tty when mapped).
    var terminalGID: UInt32
    /// Set before exec (RLIMIT_NPROC when no cgroup limits the container).
    var rlimits: [RLimitSetting] = []
}
