/// A set of Linux capabilities as the kernel's 64-bit mask (bit N = capability N).
public struct CapabilitySet: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(_ number: Int) { self.rawValue = 1 << UInt64(number) }

    public static let chown = CapabilitySet(0)
    public static let dacOverride = CapabilitySet(1)
    public static let fowner = CapabilitySet(3)
    public static let fsetid = CapabilitySet(4)
    public static let kill = CapabilitySet(5)
    public static let setgid = CapabilitySet(6)
    public static let setuid = CapabilitySet(7)
    public static let setpcap = CapabilitySet(8)
    public static let netBindService = CapabilitySet(10)
    public static let netRaw = CapabilitySet(13)
    public static let sysChroot = CapabilitySet(18)
    public static let sysAdmin = CapabilitySet(21)
    public static let mknod = CapabilitySet(27)
    public static let auditWrite = CapabilitySet(29)
    public static let setfcap = CapabilitySet(31)

    /// Docker's 14 default capabilities (`0x00000000a80425fb`), moby `caps/defaults.go`.
    public static let dockerDefault: CapabilitySet = [
        .chown, .dacOverride, .fowner, .fsetid, .kill, .setgid, .setuid, .setpcap,
        .netBindService, .netRaw, .sysChroot, .mknod, .auditWrite, .setfcap,
    ]

    public func contains(number: Int) -> Bool { rawValue & (1 << UInt64(number)) != 0 }

    /// Capability names (`CAP_CHOWN`, ...), unknown bits as `CAP_<n>`.
    public var names: [String] {
        (0..<64).filter { contains(number: $0) }.map { number in
            number < Self.knownNames.count ? "CAP_" + Self.knownNames[number] : "CAP_\(number)"
        }
    }

    /// Names by number, from `linux/capability.h` (0 ... 40).
    static let knownNames = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    ]
}
