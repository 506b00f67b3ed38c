@testable import DevenvRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DoctorRulesTests {
    @Test func kernelVersions() {
        #expect(DoctorRules.kernel(release: "6.1.0-18-amd64", rootless: true).status == .ok)
        #expect(DoctorRules.kernel(release: "5.10.0", rootless: true).status == .error)
        #expect(DoctorRules.kernel(release: "5.10.0", rootless: false).status == .ok)
        #expect(DoctorRules.kernel(release: "4.19.0", rootless: false).status == .error)
        #expect(DoctorRules.kernel(release: "weird", rootless: false).status == .warning)
    }

    @Test func userNamespaceSysctls() {
        #expect(DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil), creating: { 0 }).status == .error)
        let debian = DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 0, apparmorRestrict: nil), creating: { 0 })
        #expect(debian.status == .error)
        #expect(debian.fix?.contains("unprivileged_userns_clone=1") == true)
        let ubuntu = DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 1), creating: { 0 })
        #expect(ubuntu.status == .error)
        #expect(ubuntu.fix?.contains("apparmor_restrict_unprivileged_userns=0") == true)
        #expect(DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 0), creating: { 0 }).status == .ok)
        #expect(DoctorRules.userNamespaces(rootless: false, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 0, apparmorRestrict: 1), creating: { 0 }).status == .ok)
        #expect(DoctorRules.userNamespaces(rootless: false, sysctls: .init(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil), creating: { 0 }).status == .warning)
    }

    /// Sysctls that allow user namespaces are not the last word: a seccomp filter (a
    /// container's), a security module or a parent namespace's limit can deny them, so
    /// rootless devenv creates one to know, and its errno says which fix.
    @Test func userNamespacesAreTriedWhenTheSysctlsAllowThem() {
        let allowed = RootlessSupport.Sysctls(maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 0)
        let denied = DoctorRules.userNamespaces(rootless: true, sysctls: allowed, creating: { EPERM })
        #expect(denied.status == .error)
        #expect(denied.detail == "creating a user namespace fails with EPERM although the sysctls allow them: a seccomp filter (of a container devenv runs in?) or a security module denies them")
        #expect(denied.fix?.contains("seccomp profile that permits clone and unshare with CLONE_NEWUSER") == true)
        #expect(RootlessSupport.creationProblem(errno: EACCES)?.fix == denied.fix)
        let none = DoctorRules.userNamespaces(rootless: true, sysctls: allowed, creating: { ENOSPC })
        #expect(none.detail == "creating a user namespace fails with ENOSPC: none are left (user.max_user_namespaces is 0 or used up, here or in a parent namespace)")
        #expect(none.fix == "as root where it is 0 or reached (here, or on the host of a container devenv runs in): sysctl -w user.max_user_namespaces=15000")
        #expect(RootlessSupport.creationProblem(errno: EINVAL)?.fix == "use a kernel built with CONFIG_USER_NS")
        #expect(RootlessSupport.creationProblem(errno: ENOMEM)?.reason == "creating a user namespace fails with ENOMEM (cannot allocate memory)")
        #expect(RootlessSupport.creationProblem(errno: 0) == nil)
        #expect(DoctorRules.userNamespaces(rootless: true, sysctls: allowed, creating: { 0 }).status == .ok)

        // The sysctl that says why comes first, and then nothing is tried.
        let off = RootlessSupport.Sysctls(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil)
        var tried = false
        #expect(RootlessSupport.userNamespaceProblem(off, creating: { tried = true; return EPERM })?.reason == "user.max_user_namespaces is 0")
        #expect(!tried)
        // Root needs none and tries none.
        #expect(DoctorRules.userNamespaces(rootless: false, sysctls: allowed, creating: { tried = true; return EPERM }).status == .ok)
        #expect(!tried)
        // The commands fail with the doctor's reason and fix, before the subordinate ids.
        let bare = HostIdentity(uid: 1000, gid: 1000, name: "alice")
        #expect(RootlessSupport.problem(identity: bare, sysctls: allowed, creating: { EPERM })?.reason == denied.detail)
        #expect(RootlessSupport.problem(identity: bare, sysctls: allowed, creating: { EPERM })?.fix == denied.fix)
        // The hint of a clone that fails later reads the errno the same way.
        #expect(SetupHint.forClone(errno: EPERM, userNamespace: true)?.contains("seccomp filter of a container") == true)
    }

    @Test func subordinateRangesAndHelpers() {
        let bare = HostIdentity(uid: 1000, gid: 1000, name: "alice")
        let missing = DoctorRules.subordinateIDs(identity: bare)
        // An error, not a single-id fallback: builds would fail half done (issue 12).
        #expect(missing.status == .error)
        #expect(missing.fix == "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice (a range no other user has)")
        let ranges = [SubordinateRange(owner: "alice", start: 100000, count: 65536)]
        let ranged = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges)
        #expect(DoctorRules.subordinateIDs(identity: ranged).detail.contains("100000:65536"))

        let good = DoctorRules.Helper(name: "newuidmap", path: "/usr/bin/newuidmap", setuidRoot: true, hasFileCapabilities: false)
        let capped = DoctorRules.Helper(name: "newgidmap", path: "/usr/bin/newgidmap", setuidRoot: false, hasFileCapabilities: true)
        let plain = DoctorRules.Helper(name: "newgidmap", path: "/usr/bin/newgidmap", setuidRoot: false, hasFileCapabilities: false)
        let absent = DoctorRules.Helper(name: "newuidmap", path: nil, setuidRoot: false, hasFileCapabilities: false)
        #expect(DoctorRules.mappingHelpers([good, capped], identity: ranged).status == .ok)
        #expect(DoctorRules.mappingHelpers([good, plain], identity: ranged).status == .error)
        let uninstalled = DoctorRules.mappingHelpers([absent, capped], identity: ranged)
        #expect(uninstalled.status == .error)
        #expect(uninstalled.fix == "as root: apt-get install uidmap")
    }

    /// The commands that build or start environments give the doctor's reason and fix as
    /// their one error, the first problem found, and never for root.
    @Test func rootlessCommandsRefuseWithTheDoctorsFix() {
        let allowed = RootlessSupport.Sysctls(maxUserNamespaces: 1000, unprivilegedClone: nil, apparmorRestrict: nil)
        let ranges = [SubordinateRange(owner: "alice", start: 100000, count: 65536)]
        let ranged = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges)
        #expect(RootlessSupport.problem(identity: ranged, sysctls: allowed, creating: { 0 }) == nil)
        #expect((try? RootlessSupport.require(identity: ranged, sysctls: allowed, creating: { 0 })) != nil)
        let root = HostIdentity(uid: 0, gid: 0, name: "root")
        #expect((try? RootlessSupport.require(identity: root, sysctls: .init(maxUserNamespaces: 0, unprivilegedClone: 0, apparmorRestrict: 1), creating: { EPERM })) != nil)

        let noGIDs = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges)
        #expect(RootlessSupport.problem(identity: noGIDs, sysctls: allowed, creating: { 0 })?.reason == "user 'alice' has no subordinate gids in /etc/subgid (container root and the other users of an image map to them)")
        let noHelpers = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges, hasMappingHelpers: false)
        #expect(RootlessSupport.problem(identity: noHelpers, sysctls: allowed, creating: { 0 })?.fix == "as root: apt-get install uidmap")
        // User namespaces first: without them nothing else matters.
        let disabled = RootlessSupport.Sysctls(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil)
        #expect(RootlessSupport.problem(identity: noHelpers, sysctls: disabled, creating: { 0 })?.check == "user namespaces")
        do {
            try RootlessSupport.require(identity: noGIDs, sysctls: allowed, creating: { 0 })
            Issue.record("a host without subordinate gids was accepted")
        } catch let error as RuntimeError {
            #expect(error.kind == .setup)
            #expect(error.message == "rootless devenv cannot build or start environments on this host: user 'alice' has no subordinate gids in /etc/subgid (container root and the other users of an image map to them)")
            #expect(error.hint == "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice (a range no other user has); `devenv doctor` checks the rest")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(DoctorRules.subordinateIDs(identity: noGIDs).fix == RootlessSupport.problem(identity: noGIDs, sysctls: allowed, creating: { 0 })?.fix)
    }

    /// The id-mapping helpers are looked up as a shell would, on PATH (NixOS keeps its
    /// setuid ones in /run/wrappers/bin); the usual system directories only without one.
    @Test func helpersAreFoundOnPath() {
        #expect(Subprocess.find("sh", searchPath: "/nonexistent:/bin") == "/bin/sh")
        #expect(Subprocess.find("sh", searchPath: "/nonexistent") == nil)
        #expect(Subprocess.find("sh", searchPath: nil) != nil)
    }

    @Test func seccomp() {
        #expect(DoctorRules.seccomp(statusHasSeccomp: false, actionsAvailable: nil).status == .error)
        #expect(DoctorRules.seccomp(statusHasSeccomp: true, actionsAvailable: "kill_process trap errno allow\n").status == .ok)
        #expect(DoctorRules.seccomp(statusHasSeccomp: true, actionsAvailable: "kill allow").status == .error)
    }

    @Test func reportHealth() {
        #expect(DoctorReport(checks: [DoctorCheck("a", .ok, ""), DoctorCheck("b", .warning, "")]).healthy)
        #expect(!DoctorReport(checks: [DoctorCheck("a", .ok, ""), DoctorCheck("b", .error, "")]).healthy)
    }
}
