import DevenvSystem

/// How much of the machine one container may use. Pure data with the parsing
/// of the human forms `--memory 2g`, `--pids 4096`, `--cpus 1.5`, `--shm-size 256m`.
///
/// Enforced by a cgroup (v2, or v1 as root) when one is writable; otherwise only `pids`
/// becomes RLIMIT_NPROC and devenv warns once at start (see `CgroupPlacement`).
public struct ResourceLimits: Hashable, Codable, Sendable {
    /// Bytes of RAM (and swap: none beyond it) for every process together; nil: unlimited.
    public var memory: UInt64?
    /// Processes and threads together, init included; nil: unlimited.
    public var pids: Int?
    /// CPU time as a number of CPUs (1.5 = 150 ms per 100 ms period); nil: unlimited.
    public var cpus: Double?
    /// Size of the `/dev/shm` tmpfs. Always bounded (tmpfs' own default is half the RAM).
    public var shmSize: UInt64

    public init(memory: UInt64? = nil, pids: Int? = ResourceLimits.defaultPids, cpus: Double? = nil,
                shmSize: UInt64 = ResourceLimits.defaultShmSize) {
        self.memory = memory
        self.pids = pids
        self.cpus = cpus
        self.shmSize = shmSize
    }

    /// Half of the kernel's classic pid_max (32768): plenty for `make -j`, test runners and
    /// browsers (threads count too), and a fork bomb cannot take every pid of such a host.
    public static let defaultPids = 16384
    /// Enough for Chrome and PyTorch data loaders, which fail with Docker's 64 MiB.
    public static let defaultShmSize: UInt64 = 1 << 30
    public static let `default` = ResourceLimits()

    /// Below these the container's own init cannot start.
    public static let minimumMemory: UInt64 = 16 << 20
    public static let minimumPids = 2
    /// The kernel's smallest CFS quota is 1 ms per 100 ms period.
    public static let minimumCPUs = 0.01
    public static let cpuPeriodMicroseconds: UInt64 = 100_000

    /// The CFS quota in microseconds per `cpuPeriodMicroseconds`, or nil for no limit.
    public var cpuQuotaMicroseconds: UInt64? {
        cpus.map { UInt64(($0 * Double(Self.cpuPeriodMicroseconds)).rounded()) }
    }

    /// Whether any limit needs a cgroup controller (shm is a mount option).
    public var needsCgroup: Bool { memory != nil || pids != nil || cpus != nil }

    /// Whether the user asked for more than the default pids limit. Only then does a run get
    /// a cgroup: moving init into one waits for an RCU grace period, 10-15 ms on an idle host,
    /// which would more than double every start; the default pids limit is RLIMIT_NPROC.
    public var asksForCgroup: Bool { memory != nil || cpus != nil || pids != Self.defaultPids }

    /// `self` with the given textual values applied; nil keeps the current value. "max",
    /// "none" and "unlimited" lift a limit (not the shm size, which stays bounded).
    public func overriding(memory: String? = nil, pids: String? = nil, cpus: String? = nil, shmSize: String? = nil) throws -> ResourceLimits {
        var result = self
        if let memory { result.memory = try Self.parseMemory(memory) }
        if let pids { result.pids = try Self.parsePids(pids) }
        if let cpus { result.cpus = try Self.parseCPUs(cpus) }
        if let shmSize { result.shmSize = try Self.parseShmSize(shmSize) }
        return result
    }

    public static func parseMemory(_ text: String) throws -> UInt64? {
        if isUnlimited(text) { return nil }
        let bytes = try parseSize(text, option: "memory")
        guard bytes >= minimumMemory else {
            throw RuntimeError.invalid("memory limit \(quoted(text)) is below the minimum of 16m (the container's init needs some)")
        }
        return bytes
    }

    public static func parsePids(_ text: String) throws -> Int? {
        if isUnlimited(text) { return nil }
        guard let count = Int(text.trimmed), count >= minimumPids else {
            throw RuntimeError.invalid("pids limit \(quoted(text)): expected a whole number of at least \(minimumPids) (init and the command), or max")
        }
        return count
    }

    public static func parseCPUs(_ text: String) throws -> Double? {
        if isUnlimited(text) { return nil }
        guard let count = Double(text.trimmed), count.isFinite, count >= minimumCPUs, count <= 65536 else {
            throw RuntimeError.invalid("cpus limit \(quoted(text)): expected a number of CPUs such as 2 or 1.5 (at least 0.01), or max")
        }
        return count
    }

    public static func parseShmSize(_ text: String) throws -> UInt64 {
        let bytes = try parseSize(text, option: "shm size")
        guard bytes >= 4096 else { throw RuntimeError.invalid("shm size \(quoted(text)) is below the minimum of 4k") }
        return bytes
    }

    /// `1073741824`, `512k`, `2g`, `1.5G`, `64MiB`, `3gb`: binary units (k = 1024), as Docker
    /// reads them.
    public static func parseSize(_ text: String, option: String) throws -> UInt64 {
        let trimmed = text.trimmed
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        var unit = trimmed.dropFirst(number.count).lowercased()
        if unit.hasSuffix("ib") { unit.removeLast(2) } else if unit.count > 1 && unit.hasSuffix("b") { unit.removeLast() }
        let shift: UInt64? = ["": 0, "b": 0, "k": 10, "m": 20, "g": 30, "t": 40][unit]
        guard let shift, let value = Double(number), value.isFinite, value > 0 else {
            throw RuntimeError.invalid("\(option) \(quoted(text)): expected a size such as 512m, 2g or 1.5g (units b, k, m, g, t)")
        }
        let bytes = (value * Double(UInt64(1) << shift)).rounded(.up)
        guard bytes < Double(UInt64(1) << 62) else { throw RuntimeError.invalid("\(option) \(quoted(text)) is too large") }
        return UInt64(bytes)
    }

    /// `2g`, `1536m`, `4096`: the shortest exact spelling, for messages and doctor.
    public static func describe(bytes: UInt64) -> String {
        for (shift, unit) in [(40, "t"), (30, "g"), (20, "m"), (10, "k")] where bytes >= UInt64(1) << shift && bytes % (UInt64(1) << shift) == 0 {
            return "\(bytes >> UInt64(shift))\(unit)"
        }
        return "\(bytes)"
    }

    /// `memory 2g, pids 16384, cpus 1.5, shm 1g` with `max` for what is unlimited.
    public var summary: String {
        let cpuText = cpus.map { $0 == $0.rounded() ? String(Int($0)) : String($0) } ?? "max"
        return "memory \(memory.map(Self.describe) ?? "max"), pids \(pids.map(String.init) ?? "max"), cpus \(cpuText), shm \(Self.describe(bytes: shmSize))"
    }

    private static func isUnlimited(_ text: String) -> Bool {
        ["max", "none", "unlimited"].contains(text.trimmed.lowercased())
    }

    private static func quoted(_ text: String) -> String { Errno.quote(text) }
}

private extension String {
    var trimmed: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
