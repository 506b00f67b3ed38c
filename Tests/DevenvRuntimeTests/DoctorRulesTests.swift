@testable import DevenvRuntime
import Testing

@Suite struct DoctorRulesTests {
    @Test func kernelVersions() {
        #expect(DoctorRules.kernel(release: "6.1.0-18-amd64", rootless: true).status == .ok)
        #expect(DoctorRules.kernel(release: "5.10.0", rootless: true).status == .error)
        #expect(DoctorRules.kernel(release: "5.10.0", rootless: false).status == .ok)
        #expect(DoctorRules.kernel(release: "4.19.0", rootless: false).status == .error)
        #expect(DoctorRules.kernel(release: "weird", rootless: false).status == .warning)
    }

    @Test func userNamespaceSysctls() {
        #expect(DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil)).status == .error)
        let debian = DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 0, apparmorRestrict: nil))
        #expect(debian.status == .error)
        #expect(debian.fix?.contains("unprivileged_userns_clone=1") == true)
        let ubuntu = DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 1))
        #expect(ubuntu.status == .error)
        #expect(ubuntu.fix?.contains("apparmor_restrict_unprivileged_userns=0") == true)
        #expect(DoctorRules.userNamespaces(rootless: true, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 0)).status == .ok)
        #expect(DoctorRules.userNamespaces(rootless: false, sysctls: .init(maxUserNamespaces: 1000, unprivilegedClone: 0, apparmorRestrict: 1)).status == .ok)
        #expect(DoctorRules.userNamespaces(rootless: false, sysctls: .init(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil)).status == .warning)
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
        #expect(RootlessSupport.problem(identity: ranged, sysctls: allowed) == nil)
        #expect((try? RootlessSupport.require(identity: ranged, sysctls: allowed)) != nil)
        let root = HostIdentity(uid: 0, gid: 0, name: "root")
        #expect((try? RootlessSupport.require(identity: root, sysctls: .init(maxUserNamespaces: 0, unprivilegedClone: 0, apparmorRestrict: 1))) != nil)

        let noGIDs = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges)
        #expect(RootlessSupport.problem(identity: noGIDs, sysctls: allowed)?.reason == "user 'alice' has no subordinate gids in /etc/subgid (container root and the other users of an image map to them)")
        let noHelpers = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges, hasMappingHelpers: false)
        #expect(RootlessSupport.problem(identity: noHelpers, sysctls: allowed)?.fix == "as root: apt-get install uidmap")
        // User namespaces first: without them nothing else matters.
        let disabled = RootlessSupport.Sysctls(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil)
        #expect(RootlessSupport.problem(identity: noHelpers, sysctls: disabled)?.check == "user namespaces")
        do {
            try RootlessSupport.require(identity: noGIDs, sysctls: allowed)
            Issue.record("a host without subordinate gids was accepted")
        } catch let error as RuntimeError {
            #expect(error.kind == .setup)
            #expect(error.message == "rootless devenv cannot build or start environments on this host: user 'alice' has no subordinate gids in /etc/subgid (container root and the other users of an image map to them)")
            #expect(error.hint == "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice (a range no other user has); `devenv doctor` checks the rest")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(DoctorRules.subordinateIDs(identity: noGIDs).fix == RootlessSupport.problem(identity: noGIDs, sysctls: allowed)?.fix)
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
