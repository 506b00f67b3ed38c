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

    /// Sysctl values are nil when the knob does not exist on this kernel.
    public static func userNamespaces(rootless: Bool, maxUserNamespaces: Int?, unprivilegedClone: Int?, apparmorRestrict: Int?) -> DoctorCheck {
        let name = "user namespaces"
        if maxUserNamespaces == 0 {
            return DoctorCheck(name, rootless ? .error : .warning, "user.max_user_namespaces is 0", fix: "sysctl -w user.max_user_namespaces=15000")
        }
        guard rootless else { return DoctorCheck(name, .ok, "not needed as root") }
        if unprivilegedClone == 0 {
            return DoctorCheck(name, .error, "kernel.unprivileged_userns_clone is 0", fix: "sysctl -w kernel.unprivileged_userns_clone=1")
        }
        if apparmorRestrict == 1 {
            return DoctorCheck(name, .error, "kernel.apparmor_restrict_unprivileged_userns is 1 (AppArmor blocks unprivileged user namespaces)",
                               fix: "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile allowing userns for devenv")
        }
        return DoctorCheck(name, .ok, "allowed (max \(maxUserNamespaces.map(String.init) ?? "unknown"))")
    }

    public static func subordinateIDs(identity: HostIdentity) -> DoctorCheck {
        let name = "subordinate ids"
        guard !identity.isRoot else { return DoctorCheck(name, .ok, "not needed as root") }
        let format = { (ranges: [SubordinateRange]) in ranges.map { "\($0.start):\($0.count)" }.joined(separator: ",") }
        if identity.subordinateUIDs.isEmpty || identity.subordinateGIDs.isEmpty {
            return DoctorCheck(name, .warning,
                               "no /etc/subuid or /etc/subgid range for \(identity.name): container root is you and other uids are unmapped (package installs that chown fail)",
                               fix: "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(identity.name)")
        }
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
        let name = "newuidmap/newgidmap"
        guard !identity.isRoot else { return DoctorCheck(name, .ok, "not needed as root") }
        let needed = !identity.subordinateUIDs.isEmpty && !identity.subordinateGIDs.isEmpty
        for helper in helpers {
            guard let path = helper.path else {
                return DoctorCheck(name, needed ? .warning : .ok, "\(helper.name) not installed; using a single-uid mapping", fix: "apt-get install uidmap")
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
