/// The part of a spec that the whole running environment shares (root filesystem, mounts,
/// hostname, network, ids, limits). A joining session brings only its process (user,
/// environment, working directory, terminal, capabilities, seccomp), so when its settings
/// differ it is told that it gets the running environment's.
public struct EnvironmentSettings: Codable, Equatable, Sendable {
    public var rootfs: RootfsSpec
    public var mounts: [BindMount]
    public var hostname: String
    public var network: NetworkMode
    public var idMapping: IDMapping?
    public var resolvConf: String?
    public var hosts: String?
    public var limits: ResourceLimits

    public init(_ spec: ContainerSpec) {
        rootfs = spec.rootfs
        mounts = spec.mounts
        hostname = spec.hostname
        network = spec.network
        idMapping = spec.idMapping
        resolvConf = spec.resolvConf
        hosts = spec.hosts
        limits = spec.limits
    }
}
