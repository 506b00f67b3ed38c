import DevenvSystem

/// The cgroup controllers devenv uses.
enum CgroupController: String, CaseIterable, Codable, Sendable {
    case pids, memory, cpu
}

public enum CgroupVersion: String, Codable, Sendable {
    case v2, v1
}

/// One value written to one cgroup file. `optional` writes may fail with ENOENT (swap
/// accounting is a kernel option).
struct CgroupWrite: Equatable, Sendable {
    var path: String
    var value: String
    var optional = false
}

/// What to create for one container and what to write there, decided purely from the host's
/// facts. `ContainerCgroup` performs it.
struct CgroupPlan: Equatable, Sendable {
    var version: CgroupVersion
    /// The cgroups to create, one per v1 hierarchy or the single v2 one; init's pid goes into
    /// each one's cgroup.procs.
    var directories: [String]
    /// Enables controllers in the v2 parent (`+pids +memory` to cgroup.subtree_control), then
    /// the limits, in order.
    var setup: [CgroupWrite]
    var limits: [CgroupWrite]

    /// The cgroup whose process list tells whether anything of the container is left.
    var primary: String { directories[0] }
}

/// Where the limits go: a cgroup, nowhere (nothing to limit), or rlimits with a reason.
enum CgroupPlacement: Equatable, Sendable {
    case cgroup(CgroupPlan)
    case notNeeded
    case unavailable(reason: String, hint: String)
}

/// What the planner needs to know about the host. `LiveCgroupHost` asks the kernel; tests
/// describe a v2 host with systemd delegation, which this machine (hybrid) cannot provide.
protocol CgroupHostFacts {
    /// A small file's contents, nil when it cannot be read.
    func read(_ path: String) -> String?
    /// access(W_OK): whether this process may create a cgroup in, or write to, `path`.
    func isWritable(_ path: String) -> Bool
    /// Whether `path` is the root of a mounted cgroup filesystem of this version.
    func isMounted(_ path: String, version: CgroupVersion) -> Bool
    var uid: UInt32 { get }
}

/// Decides where a container's cgroup goes, v2 first:
/// - v2: under the nearest ancestor of devenv's own cgroup that this process may write
///   (its cgroup.procs is what moving a process needs, its subtree_control whether the
///   controllers reach the child). devenv's own cgroup holds devenv, and a v2 cgroup with
///   processes cannot pass controllers on, so the container becomes its sibling.
/// - v1 (root, or a hierarchy chowned to the user): a child of devenv's own cgroup in each
///   needed hierarchy, so limits set on the invoking session still apply.
enum CgroupPlanner {
    static let mountRoot = "/sys/fs/cgroup"

    static func place(_ limits: ResourceLimits, name: String, facts: CgroupHostFacts) -> CgroupPlacement {
        let controllers = needed(limits)
        guard !controllers.isEmpty else { return .notNeeded }
        let own = ProcCgroup.parse(facts.read("/proc/self/cgroup") ?? "")
        var reasons: [String] = []
        var v2HasControllers = false
        let mount = v2Mount(facts)
        if let mount {
            let available = words(facts.read(mount + "/cgroup.controllers"))
            v2HasControllers = controllers.allSatisfy { available.contains($0.rawValue) }
            switch v2Plan(limits, controllers: controllers, name: name, mount: mount, own: own.unified ?? "/", facts: facts) {
            case .success(let plan): return .cgroup(plan)
            case .failure(let reason): reasons.append(reason.text)
            }
        }
        // A pure v2 host (cgroup2 at the mount root) has no v1 hierarchies to fall back on.
        if mount != mountRoot {
            switch v1Plan(limits, controllers: controllers, name: name, own: own, facts: facts) {
            case .success(let plan): return .cgroup(plan)
            case .failure(let reason): reasons.append(reason.text)
            }
        }
        let hint: String
        if facts.uid == 0 {
            hint = "mount the cgroup controllers (devenv doctor shows what is missing)"
        } else if v2HasControllers {
            hint = "start devenv in a cgroup delegated to you: systemd-run --user --scope devenv ..."
        } else {
            hint = "cgroup v1 delegates nothing to users; cgroup v2 (systemd.unified_cgroup_hierarchy=1) with a systemd user session does"
        }
        return .unavailable(reason: reasons.joined(separator: ", and "), hint: hint)
    }

    static func needed(_ limits: ResourceLimits) -> [CgroupController] {
        var result: [CgroupController] = []
        if limits.pids != nil { result.append(.pids) }
        if limits.memory != nil { result.append(.memory) }
        if limits.cpus != nil { result.append(.cpu) }
        return result
    }

    /// The values for each controller's files, as the kernel spells them.
    static func writes(_ limits: ResourceLimits, version: CgroupVersion, directory: (CgroupController) -> String) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        if let pids = limits.pids { writes.append(CgroupWrite(path: directory(.pids) + "/pids.max", value: "\(pids)")) }
        if let memory = limits.memory {
            let base = directory(.memory)
            switch version {
            case .v2:
                writes.append(CgroupWrite(path: base + "/memory.max", value: "\(memory)"))
                // --memory bounds RAM and swap together, as Docker's does by default with --memory-swap equal to it.
                writes.append(CgroupWrite(path: base + "/memory.swap.max", value: "0", optional: true))
            case .v1:
                writes.append(CgroupWrite(path: base + "/memory.limit_in_bytes", value: "\(memory)"))
                writes.append(CgroupWrite(path: base + "/memory.memsw.limit_in_bytes", value: "\(memory)", optional: true))
            }
        }
        if let quota = limits.cpuQuotaMicroseconds {
            let base = directory(.cpu)
            let period = ResourceLimits.cpuPeriodMicroseconds
            switch version {
            case .v2:
                writes.append(CgroupWrite(path: base + "/cpu.max", value: "\(quota) \(period)"))
            case .v1:
                writes.append(CgroupWrite(path: base + "/cpu.cfs_period_us", value: "\(period)"))
                writes.append(CgroupWrite(path: base + "/cpu.cfs_quota_us", value: "\(quota)"))
            }
        }
        return writes
    }

    struct Reason: Error {
        let text: String
    }

    static func v2Mount(_ facts: CgroupHostFacts) -> String? {
        if facts.isMounted(mountRoot, version: .v2) { return mountRoot }
        if facts.isMounted(mountRoot + "/unified", version: .v2) { return mountRoot + "/unified" }
        return nil
    }

    static func v2Plan(_ limits: ResourceLimits, controllers: [CgroupController], name: String, mount: String, own: String,
                       facts: CgroupHostFacts) -> Result<CgroupPlan, Reason> {
        let available = words(facts.read(mount + "/cgroup.controllers"))
        let missing = controllers.filter { !available.contains($0.rawValue) }
        guard missing.isEmpty else {
            return .failure(Reason(text: "cgroup v2 has no \(list(missing)) controller"))
        }
        // The root cgroup may hold processes and still pass controllers on; any other may not.
        let candidates = own == "/" ? ["/"] : ProcCgroup.ancestors(of: own)
        for candidate in candidates {
            let directory = candidate == "/" ? mount : mount + candidate
            guard facts.isWritable(directory), facts.isWritable(directory + "/cgroup.procs") else { continue }
            let enabled = words(facts.read(directory + "/cgroup.subtree_control"))
            let disabled = controllers.filter { !enabled.contains($0.rawValue) }
            var setup: [CgroupWrite] = []
            if !disabled.isEmpty {
                let delegated = words(facts.read(directory + "/cgroup.controllers"))
                let absent = disabled.filter { !delegated.contains($0.rawValue) }
                guard absent.isEmpty else {
                    return .failure(Reason(text: "the \(list(absent)) controller is not delegated to cgroup \(Errno.quote(candidate))"))
                }
                guard facts.isWritable(directory + "/cgroup.subtree_control") else {
                    return .failure(Reason(text: "cannot enable \(list(disabled)) in cgroup \(Errno.quote(candidate))"))
                }
                setup.append(CgroupWrite(path: directory + "/cgroup.subtree_control", value: disabled.map { "+" + $0.rawValue }.joined(separator: " ")))
            }
            let container = directory + "/" + name
            return .success(CgroupPlan(version: .v2, directories: [container], setup: setup,
                                       limits: writes(limits, version: .v2) { _ in container }))
        }
        return .failure(Reason(text: "no cgroup v2 above \(Errno.quote(own)) is writable by uid \(facts.uid)"))
    }

    static func v1Plan(_ limits: ResourceLimits, controllers: [CgroupController], name: String, own: ProcCgroup,
                       facts: CgroupHostFacts) -> Result<CgroupPlan, Reason> {
        var directories: [CgroupController: String] = [:]
        for controller in controllers {
            let hierarchy = mountRoot + "/" + controller.rawValue
            guard facts.isMounted(hierarchy, version: .v1), let path = own.v1[controller.rawValue] else {
                return .failure(Reason(text: "no cgroup v1 \(controller.rawValue) hierarchy"))
            }
            let parent = path == "/" ? hierarchy : hierarchy + path
            guard facts.isWritable(parent) else {
                return .failure(Reason(text: "cgroup v1 is not writable by uid \(facts.uid)"))
            }
            directories[controller] = parent + "/" + name
        }
        let ordered = controllers.map { directories[$0]! }
        return .success(CgroupPlan(version: .v1, directories: ordered, setup: [],
                                   limits: writes(limits, version: .v1) { directories[$0]! }))
    }

    private static func words(_ text: String?) -> Set<String> {
        Set((text ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    private static func list(_ controllers: [CgroupController]) -> String {
        controllers.map(\.rawValue).joined(separator: " and ")
    }
}

/// `/proc/self/cgroup`: the v2 path (`0::/path`) and each v1 controller's path
/// (`4:memory:/path`, `2:cpu,cpuacct:/path`).
struct ProcCgroup: Equatable {
    var unified: String?
    var v1: [String: String] = [:]

    static func parse(_ text: String) -> ProcCgroup {
        var result = ProcCgroup()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].hasPrefix("/") else { continue }
            let path = String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                result.unified = path
            } else {
                for controller in fields[1].split(separator: ",") { result.v1[String(controller)] = path }
            }
        }
        return result
    }

    /// `/a/b/c` → `/a/b`, `/a`, `/` (nearest first).
    static func ancestors(of path: String) -> [String] {
        var components = path.split(separator: "/").map(String.init)
        var result: [String] = []
        while !components.isEmpty {
            components.removeLast()
            result.append("/" + components.joined(separator: "/"))
        }
        return result
    }
}
