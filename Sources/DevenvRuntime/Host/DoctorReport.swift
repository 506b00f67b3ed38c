/// The result of `devenv doctor`: one entry per host feature devenv relies on.
public struct DoctorCheck: Hashable, Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        case ok
        /// Works, but less well (e.g. single-uid mapping) or not checked.
        case warning
        /// devenv cannot run containers until this is fixed.
        case error
    }

    public var name: String
    public var status: Status
    public var detail: String
    public var fix: String?

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

public struct DoctorReport: Hashable, Codable, Sendable {
    public var checks: [DoctorCheck]

    public init(checks: [DoctorCheck]) { self.checks = checks }

    /// False when something required is broken.
    public var healthy: Bool { !checks.contains { $0.status == .error } }
}

/// Pure judgements over facts read from the host, so each rule is unit-testable.
public enum DoctorRules {
    public static func kernel(release: String, rootless: Bool) -> DoctorCheck {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2 else { return DoctorCheck("kernel", .warning, "cannot parse version \(release)") }
        let atLeast = { (major: Int, minor: Int) in numbers[0] > major || (numbers[0] == major && numbers[1] >= minor) }
        if !atLeast(5, 4) { return DoctorCheck("kernel", .error, "Linux \(release) is older than 5.4", fix: "upgrade the kernel") }
        if rootless && !atLeast(5, 11) {
            return DoctorCheck("kernel", .error, "Linux \(release): overlayfs in a user namespace needs 5.11", fix: "upgrade the kernel, or run devenv as root")
        }
        return DoctorCheck("kernel", .ok, "Linux \(release)")
    }

    /// The same judgements the commands that build or start environments make
    /// (`RootlessSupport`): the sysctls, then rootless a real try (`creating`).
    public static func userNamespaces(rootless: Bool, sysctls: RootlessSupport.Sysctls, creating: () -> Int32) -> DoctorCheck {
        let name = RootlessSupport.userNamespaces
        if rootless {
            guard let problem = RootlessSupport.userNamespaceProblem(sysctls, creating: creating) else {
                return DoctorCheck(name, .ok, "created one (max \(sysctls.maxUserNamespaces.map(String.init) ?? "unknown"))")
            }
            return DoctorCheck(name, .error, problem.reason, fix: problem.fix)
        }
        let problem = RootlessSupport.userNamespaceProblem(sysctls)
        // Root needs none itself; with none at all, neither can the rootless users.
        if let problem, sysctls.maxUserNamespaces == 0 { return DoctorCheck(name, .warning, problem.reason, fix: problem.fix) }
        return DoctorCheck(name, .ok, "not needed as root")
    }

    public static func subordinateIDs(identity: HostIdentity) -> DoctorCheck {
        let name = RootlessSupport.subordinateIDs
        guard !identity.isRoot else { return DoctorCheck(name, .ok, "not needed as root") }
        if let problem = RootlessSupport.idMappingProblem(identity), problem.check == name {
            return DoctorCheck(name, .error, problem.reason, fix: problem.fix)
        }
        let format = { (ranges: [SubordinateRange]) in ranges.map { "\($0.start):\($0.count)" }.joined(separator: ",") }
        return DoctorCheck(name, .ok, "uids \(format(identity.subordinateUIDs)), gids \(format(identity.subordinateGIDs))")
    }

    public struct Helper: Hashable, Sendable {
        public var name: String
        public var path: String?
        public var setuidRoot: Bool
        public var hasFileCapabilities: Bool

        public init(name: String, path: String?, setuidRoot: Bool, hasFileCapabilities: Bool) {
            self.name = name
            self.path = path
            self.setuidRoot = setuidRoot
            self.hasFileCapabilities = hasFileCapabilities
        }
    }

    public static func mappingHelpers(_ helpers: [Helper], identity: HostIdentity) -> DoctorCheck {
        let name = RootlessSupport.mappingHelpers
        guard !identity.isRoot else { return DoctorCheck(name, .ok, "not needed as root") }
        for helper in helpers {
            guard let path = helper.path else {
                let problem = RootlessSupport.helpersMissing
                return DoctorCheck(name, .error, "\(helper.name): \(problem.reason)", fix: problem.fix)
            }
            if !helper.setuidRoot && !helper.hasFileCapabilities {
                return DoctorCheck(name, .error, "\(path) is neither setuid root nor has file capabilities",
                                   fix: "chmod u+s \(path), or setcap cap_set\(helper.name == "newuidmap" ? "uid" : "gid")+ep \(path)")
            }
        }
        return DoctorCheck(name, .ok, helpers.compactMap(\.path).joined(separator: ", "))
    }

    public static func seccomp(statusHasSeccomp: Bool, actionsAvailable: String?) -> DoctorCheck {
        guard statusHasSeccomp else { return DoctorCheck("seccomp", .error, "the kernel has no seccomp support", fix: "use a kernel built with CONFIG_SECCOMP_FILTER") }
        guard let actions = actionsAvailable else { return DoctorCheck("seccomp", .warning, "seccomp present, filter actions unknown") }
        let list = actions.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard list.contains("errno") else { return DoctorCheck("seccomp", .error, "seccomp filters cannot return errno", fix: "use a kernel built with CONFIG_SECCOMP_FILTER") }
        return DoctorCheck("seccomp", .ok, "filters with \(list.joined(separator: " "))")
    }

    /// The CDI devices `--device vendor.com/class=name` can name; a spec that cannot be used
    /// is a warning naming the file.
    static func cdi(_ registry: CDIRegistry) -> DoctorCheck {
        let names = registry.deviceNames
        let found = names.isEmpty ? "none in \(CDIRegistry.defaultDirectories.joined(separator: ", "))" : names.joined(separator: ", ")
        guard registry.problems.isEmpty else { return DoctorCheck("CDI devices", .warning, found + "; " + registry.problems.joined(separator: "; ")) }
        return DoctorCheck("CDI devices", .ok, found)
    }

    /// What limits a container will get: `all` places memory, pids and cpu limits together,
    /// `pidsOnly` the default pids limit alone.
    static func cgroups(all: CgroupPlacement, pidsOnly: CgroupPlacement) -> DoctorCheck {
        let defaults = "defaults: \(ResourceLimits.default.summary); processes by RLIMIT_NPROC rootless, by a pids cgroup as root (RLIMIT_NPROC does not bind root); --memory, --pids and --cpus get a cgroup"
        switch (all, pidsOnly) {
        case (.cgroup(let plan), _):
            return DoctorCheck("cgroups", .ok, "\(plan.version.rawValue): memory, pids and cpus limits in \(parents(plan)); \(defaults)")
        case (.unavailable(let reason, let hint), .cgroup(let plan)):
            return DoctorCheck("cgroups", .warning, "\(plan.version.rawValue): pids limit in \(parents(plan)), but memory and cpus limits cannot be enforced (\(reason)); \(defaults)", fix: hint)
        case (_, .unavailable(let reason, let hint)):
            return DoctorCheck("cgroups", .warning, "no writable cgroup (\(reason)): asked-for limits fall back to RLIMIT_NPROC with a warning; memory and cpus limits cannot be enforced; \(defaults)", fix: hint)
        default:
            return DoctorCheck("cgroups", .ok, defaults)
        }
    }

    private static func parents(_ plan: CgroupPlan) -> String {
        plan.directories.map { directory in String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)]) }.joined(separator: ", ")
    }
}
