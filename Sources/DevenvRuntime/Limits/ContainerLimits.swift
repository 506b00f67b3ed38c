import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// One rlimit the command gets before exec (values as `setrlimit` takes them; `UInt64.max`
/// is RLIM_INFINITY).
struct RLimitSetting: Codable, Equatable, Sendable {
    var resource: Int32
    var soft: UInt64
    var hard: UInt64
}

/// How one run's `ResourceLimits` are enforced: by the container's cgroup, or, when no cgroup
/// is writable, by rlimits and a one-line warning.
struct ContainerLimits {
    var cgroup: ContainerCgroup?
    var rlimits: [RLimitSetting]
    var warning: String?

    /// RLIMIT_NOFILE above this makes programs that close every descriptor up to the limit
    /// (old Python subprocess, rpm, many daemons) crawl; it is also the kernel's default nr_open.
    static let maximumOpenFiles: UInt64 = 1 << 20

    /// Creates the cgroup when one is usable and the limits ask for one (`asksForCgroup`), or
    /// when a pids limit must bind real root (`nprocBinds` false: RLIMIT_NPROC does not
    /// restrain uid 0 outside a user namespace). A rootless run with the defaults gets
    /// rlimits, silently.
    static func prepare(_ limits: ResourceLimits, nprocBinds: Bool, facts: CgroupHostFacts = LiveCgroupHost()) -> ContainerLimits {
        let noFile = ResourceLimit.current(ResourceLimit.openFiles)
        guard limits.asksForCgroup || (!nprocBinds && limits.pids != nil) else {
            return ContainerLimits(cgroup: nil, rlimits: rlimits(limits, cgroup: false, openFiles: noFile), warning: nil)
        }
        switch CgroupPlanner.place(limits, name: ContainerCgroup.uniqueName(), facts: facts) {
        case .notNeeded:
            return ContainerLimits(cgroup: nil, rlimits: rlimits(limits, cgroup: true, openFiles: noFile), warning: nil)
        case .cgroup(let plan):
            do {
                let cgroup = try ContainerCgroup.create(plan)
                return ContainerLimits(cgroup: cgroup, rlimits: rlimits(limits, cgroup: true, openFiles: noFile), warning: nil)
            } catch {
                return fallback(limits, reason: "\(error)", hint: "devenv doctor explains the host's cgroups", nprocBinds: nprocBinds, openFiles: noFile)
            }
        case .unavailable(let reason, let hint):
            return fallback(limits, reason: reason, hint: hint, nprocBinds: nprocBinds, openFiles: noFile)
        }
    }

    private static func fallback(_ limits: ResourceLimits, reason: String, hint: String, nprocBinds: Bool,
                                 openFiles: (soft: UInt64, hard: UInt64)) -> ContainerLimits {
        ContainerLimits(cgroup: nil, rlimits: rlimits(limits, cgroup: false, openFiles: openFiles),
                        warning: warning(limits, reason: reason, hint: hint, nprocBinds: nprocBinds))
    }

    /// The rlimits for the command (pure). Without a cgroup the pids limit becomes
    /// RLIMIT_NPROC, which since Linux 5.14 counts per user *in the container's user
    /// namespace*, so it bounds the container's processes, not the user's whole session.
    /// Memory gets no rlimit: RLIMIT_AS/RLIMIT_DATA bound address space, not memory, and break
    /// the runtimes a dev shell runs (Go, the JVM, V8 and sanitizers reserve far more than they use).
    static func rlimits(_ limits: ResourceLimits, cgroup: Bool, openFiles: (soft: UInt64, hard: UInt64)) -> [RLimitSetting] {
        var settings: [RLimitSetting] = []
        if !cgroup, let pids = limits.pids {
            settings.append(RLimitSetting(resource: ResourceLimit.processes, soft: UInt64(pids), hard: UInt64(pids)))
        }
        if openFiles.hard > maximumOpenFiles {
            settings.append(RLimitSetting(resource: ResourceLimit.openFiles, soft: min(openFiles.soft, maximumOpenFiles), hard: maximumOpenFiles))
        }
        return settings
    }

    /// `devenv: warning: no cgroup for resource limits (REASON); ...; hint: ...` (pure, one line).
    static func warning(_ limits: ResourceLimits, reason: String, hint: String, nprocBinds: Bool) -> String {
        var enforced = "nothing is limited"
        if let pids = limits.pids {
            enforced = nprocBinds ? "processes are limited to \(pids) by RLIMIT_NPROC" : "RLIMIT_NPROC does not bind root, so nothing is limited"
        }
        var ignored: [String] = []
        if limits.memory != nil { ignored.append("memory") }
        if limits.cpus != nil { ignored.append("cpus") }
        let unenforced = ignored.isEmpty ? "" : "; the \(ignored.joined(separator: " and ")) limit is not enforced"
        let line = "devenv: warning: no cgroup for resource limits (\(reason)); \(enforced)\(unenforced); hint: \(hint)"
        return String(line.map { $0 == "\n" ? " " : $0 })
    }
}
