/// A Linux capability, numbered as in `<linux/capability.h>`.
public enum Capability: Int, CaseIterable, Hashable, Sendable, Comparable, CustomStringConvertible {
    case chown = 0
    case dacOverride = 1
    case dacReadSearch = 2
    case fowner = 3
    case fsetid = 4
    case kill = 5
    case setgid = 6
    case setuid = 7
    case setpcap = 8
    case linuxImmutable = 9
    case netBindService = 10
    case netBroadcast = 11
    case netAdmin = 12
    case netRaw = 13
    case ipcLock = 14
    case ipcOwner = 15
    case sysModule = 16
    case sysRawio = 17
    case sysChroot = 18
    case sysPtrace = 19
    case sysPacct = 20
    case sysAdmin = 21
    case sysBoot = 22
    case sysNice = 23
    case sysResource = 24
    case sysTime = 25
    case sysTtyConfig = 26
    case mknod = 27
    case lease = 28
    case auditWrite = 29
    case auditControl = 30
    case setfcap = 31
    case macOverride = 32
    case macAdmin = 33
    case syslog = 34
    case wakeAlarm = 35
    case blockSuspend = 36
    case auditRead = 37
    case perfmon = 38
    case bpf = 39
    case checkpointRestore = 40

    /// The kernel's name without the prefix, lower case, e.g. `net_admin` (setpriv's spelling).
    public var shortName: String { Capability.shortNames[rawValue] }

    /// The kernel's name, e.g. `CAP_NET_ADMIN` (OCI and Docker spelling).
    public var name: String { "CAP_" + shortName.uppercased() }

    public var description: String { name }

    public var bit: UInt64 { 1 << UInt64(rawValue) }

    /// Accepts `CAP_NET_ADMIN`, `NET_ADMIN`, `net_admin` and `cap_net_admin`.
    public init?(name: String) {
        var key = name.lowercased()
        if key.hasPrefix("cap_") { key.removeFirst(4) }
        guard let index = Capability.shortNames.firstIndex(of: key) else { return nil }
        self.init(rawValue: index)
    }

    /// Like `init(name:)` but throws an error that names the offending text.
    public static func parse(_ name: String) throws -> Capability {
        guard let capability = Capability(name: name) else {
            throw SeccompError("parse capability", subject: name, reason: "unknown capability")
        }
        return capability
    }

    public static func < (lhs: Capability, rhs: Capability) -> Bool { lhs.rawValue < rhs.rawValue }

    private static let shortNames = [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
        "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
        "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
        "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
        "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
        "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
    ]
}
