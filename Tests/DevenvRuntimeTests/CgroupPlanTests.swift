import DevenvSystem
@testable import DevenvRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A described host: this machine is hybrid (v1 controllers), so the v2 cases with systemd's
/// user delegation can only be planned against a description.
struct DescribedHost: CgroupHostFacts {
    var files: [String: String]
    var writable: Set<String>
    var v2Mounts: Set<String> = []
    var v1Mounts: Set<String> = []
    var uid: UInt32 = 1000

    func read(_ path: String) -> String? { files[path] }
    func isWritable(_ path: String) -> Bool { writable.contains(path) }
    func isMounted(_ path: String, version: CgroupVersion) -> Bool { (version == .v2 ? v2Mounts : v1Mounts).contains(path) }

    /// systemd v2: the user's terminal runs in a scope below user@1000.service, which (and
    /// everything below it) is delegated to the user.
    static func systemdUser(subtree: String = "pids memory", controllers: String = "cpu memory pids") -> DescribedHost {
        let service = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service"
        let slice = service + "/app.slice"
        return DescribedHost(
            files: ["/proc/self/cgroup": "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope\n",
                    "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
                    slice + "/cgroup.controllers": controllers + "\n", slice + "/cgroup.subtree_control": subtree + "\n"],
            writable: [service, slice, slice + "/cgroup.procs", slice + "/cgroup.subtree_control"],
            v2Mounts: ["/sys/fs/cgroup"])
    }

    /// This machine's kind: v1 controllers, an empty cgroup2 at /sys/fs/cgroup/unified.
    static func hybrid(uid: UInt32) -> DescribedHost {
        let v1 = ["pids", "memory", "cpu"].map { "/sys/fs/cgroup/" + $0 }
        return DescribedHost(
            files: ["/proc/self/cgroup": "8:pids:/\n4:memory:/session/7\n1:cpu,cpuacct:/\n0::/\n",
                    "/sys/fs/cgroup/unified/cgroup.controllers": ""],
            writable: uid == 0 ? Set(v1 + ["/sys/fs/cgroup/memory/session/7", "/sys/fs/cgroup/unified"]) : [],
            v2Mounts: ["/sys/fs/cgroup/unified"], v1Mounts: Set(v1), uid: uid)
    }
}

struct CgroupPlanTests {
    let all = ResourceLimits(memory: 1 << 30, pids: 512, cpus: 1.5)

    @Test func v2GoesBesideDevenvInTheNearestDelegatedCgroup() {
        let slice = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice"
        let placement = CgroupPlanner.place(all, name: "devenv-1-a", facts: DescribedHost.systemdUser())
        #expect(placement == .cgroup(CgroupPlan(
            version: .v2, directories: [slice + "/devenv-1-a"],
            setup: [CgroupWrite(path: slice + "/cgroup.subtree_control", value: "+cpu")],
            limits: [CgroupWrite(path: slice + "/devenv-1-a/pids.max", value: "512"),
                     CgroupWrite(path: slice + "/devenv-1-a/memory.max", value: "1073741824"),
                     CgroupWrite(path: slice + "/devenv-1-a/memory.swap.max", value: "0", optional: true),
                     CgroupWrite(path: slice + "/devenv-1-a/cpu.max", value: "150000 100000")])))
    }

    @Test func v2ControllersAlreadyEnabledNeedNoSetup() {
        guard case .cgroup(let plan) = CgroupPlanner.place(.default, name: "n", facts: DescribedHost.systemdUser()) else {
            Issue.record("expected a cgroup")
            return
        }
        #expect(plan.setup.isEmpty)
        #expect(plan.limits.map(\.value) == ["16384"])
    }

    @Test func v2WithoutTheControllerDelegatedFallsBack() {
        let host = DescribedHost.systemdUser(subtree: "pids", controllers: "pids")
        guard case .unavailable(let reason, let hint) = CgroupPlanner.place(all, name: "n", facts: host) else {
            Issue.record("expected no cgroup")
            return
        }
        #expect(reason == "the memory and cpu controller is not delegated to cgroup /user.slice/user-1000.slice/user@1000.service/app.slice")
        #expect(hint.contains("systemd-run --user --scope"))
    }

    @Test func v2NothingWritableFallsBack() {
        var host = DescribedHost.systemdUser()
        host.writable = []
        host.files["/proc/self/cgroup"] = "0::/user.slice/user-1000.slice/session-2.scope\n"
        #expect(CgroupPlanner.place(.default, name: "n", facts: host) == .unavailable(
            reason: "no cgroup v2 above /user.slice/user-1000.slice/session-2.scope is writable by uid 1000",
            hint: "start devenv in a cgroup delegated to you: systemd-run --user --scope devenv ..."))
    }

    @Test func v2AtTheNamespaceRootUsesTheRoot() {
        let host = DescribedHost(files: ["/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cgroup.controllers": "pids\n",
                                         "/sys/fs/cgroup/cgroup.subtree_control": "pids\n"],
                                 writable: ["/sys/fs/cgroup", "/sys/fs/cgroup/cgroup.procs"], v2Mounts: ["/sys/fs/cgroup"], uid: 0)
        guard case .cgroup(let plan) = CgroupPlanner.place(.default, name: "n", facts: host) else {
            Issue.record("expected a cgroup")
            return
        }
        #expect(plan.directories == ["/sys/fs/cgroup/n"])
    }

    @Test func hybridAsRootUsesV1BelowDevenvsOwnCgroups() {
        guard case .cgroup(let plan) = CgroupPlanner.place(all, name: "n", facts: DescribedHost.hybrid(uid: 0)) else {
            Issue.record("expected a cgroup")
            return
        }
        #expect(plan.version == .v1)
        #expect(plan.directories == ["/sys/fs/cgroup/pids/n", "/sys/fs/cgroup/memory/session/7/n", "/sys/fs/cgroup/cpu/n"])
        #expect(plan.limits == [
            CgroupWrite(path: "/sys/fs/cgroup/pids/n/pids.max", value: "512"),
            CgroupWrite(path: "/sys/fs/cgroup/memory/session/7/n/memory.limit_in_bytes", value: "1073741824"),
            CgroupWrite(path: "/sys/fs/cgroup/memory/session/7/n/memory.memsw.limit_in_bytes", value: "1073741824", optional: true),
            CgroupWrite(path: "/sys/fs/cgroup/cpu/n/cpu.cfs_period_us", value: "100000"),
            CgroupWrite(path: "/sys/fs/cgroup/cpu/n/cpu.cfs_quota_us", value: "150000")])
    }

    @Test func hybridRootlessFallsBackWithBothReasons() {
        #expect(CgroupPlanner.place(.default, name: "n", facts: DescribedHost.hybrid(uid: 1000)) == .unavailable(
            reason: "cgroup v2 has no pids controller, and cgroup v1 is not writable by uid 1000",
            hint: "cgroup v1 delegates nothing to users; cgroup v2 (systemd.unified_cgroup_hierarchy=1) with a systemd user session does"))
    }

    @Test func nothingToLimitNeedsNoCgroup() {
        #expect(CgroupPlanner.place(ResourceLimits(pids: nil), name: "n", facts: DescribedHost.hybrid(uid: 1000)) == .notNeeded)
    }

    @Test func procCgroupParsing() {
        let parsed = ProcCgroup.parse("12:cpu,cpuacct:/a\n4:memory:/b/c\n1:name=systemd:/x\n0::/user.slice/u.scope\nbad line\n")
        #expect(parsed.unified == "/user.slice/u.scope")
        #expect(parsed.v1 == ["cpu": "/a", "cpuacct": "/a", "memory": "/b/c", "name=systemd": "/x"])
        #expect(ProcCgroup.ancestors(of: "/a/b/c") == ["/a/b", "/a", "/"])
        #expect(ProcCgroup.ancestors(of: "/").isEmpty)
    }

    @Test func staleNamesCarryTheirDevenvsPid() {
        #expect(ContainerCgroup.stalePid("devenv-4242-9f3a") == 4242)
        #expect(ContainerCgroup.stalePid("devenv-doctor") == nil)
        #expect(ContainerCgroup.stalePid("user.slice") == nil)
        #expect(ContainerCgroup.uniqueName().hasPrefix("devenv-\(getpid())-"))
    }

    /// Real root is not bound by RLIMIT_NPROC: its defaults get a pids cgroup, and where none
    /// can be made, a warning that says nothing is limited.
    @Test func rootsDefaultsAskForACgroup() {
        let placed = ContainerLimits.prepare(.default, nprocBinds: false, facts: LiveCgroupHost())
        defer { placed.cgroup?.destroy() }
        #expect(placed.cgroup?.plan.limits == [CgroupWrite(path: (placed.cgroup?.plan.primary ?? "") + "/pids.max", value: "16384")]
                || placed.warning != nil)
        let nowhere = ContainerLimits.prepare(.default, nprocBinds: false, facts: DescribedHost(files: [:], writable: [], uid: 0))
        #expect(nowhere.cgroup == nil)
        #expect(nowhere.warning?.contains("RLIMIT_NPROC does not bind root, so nothing is limited") == true, "\(nowhere.warning ?? "")")
        #expect(!nowhere.rlimits.isEmpty)
    }

    /// Rootless, the defaults alone never pay for a cgroup: the pids limit is RLIMIT_NPROC
    /// (per user namespace), and nothing is said.
    @Test func defaultsGetRlimitsWithoutACgroupOrWarning() {
        for host in [DescribedHost.hybrid(uid: 0), DescribedHost.hybrid(uid: 1000), DescribedHost.systemdUser()] {
            let limits = ContainerLimits.prepare(.default, nprocBinds: true, facts: host)
            #expect(limits.cgroup == nil)
            #expect(limits.warning == nil)
            #expect(limits.rlimits.contains(RLimitSetting(resource: ResourceLimit.processes, soft: 16384, hard: 16384)))
        }
    }

    @Test func doctorSaysWhatWillApply() {
        let v1 = DoctorRules.cgroups(all: CgroupPlanner.place(all, name: "n", facts: DescribedHost.hybrid(uid: 0)),
                                     pidsOnly: CgroupPlanner.place(.default, name: "n", facts: DescribedHost.hybrid(uid: 0)))
        #expect(v1.status == .ok)
        #expect(v1.detail.hasPrefix("v1: memory, pids and cpus limits in /sys/fs/cgroup/pids, /sys/fs/cgroup/memory/session/7"))
        #expect(v1.detail.hasSuffix("defaults: memory max, pids 16384, cpus max, shm 1g; processes by RLIMIT_NPROC rootless, by a pids cgroup as root (RLIMIT_NPROC does not bind root); --memory, --pids and --cpus get a cgroup"))
        let rootless = DescribedHost.hybrid(uid: 1000)
        let none = DoctorRules.cgroups(all: CgroupPlanner.place(all, name: "n", facts: rootless),
                                       pidsOnly: CgroupPlanner.place(.default, name: "n", facts: rootless))
        #expect(none.status == .warning)
        #expect(none.detail.contains("RLIMIT_NPROC"))
        let pidsOnly = DescribedHost.systemdUser(subtree: "pids", controllers: "pids")
        let partial = DoctorRules.cgroups(all: CgroupPlanner.place(all, name: "n", facts: pidsOnly),
                                          pidsOnly: CgroupPlanner.place(.default, name: "n", facts: pidsOnly))
        #expect(partial.detail.hasPrefix("v2: pids limit in /sys/fs/cgroup/user.slice"))
    }
}
