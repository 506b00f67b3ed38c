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
        #expect(DoctorRules.userNamespaces(rootless: true, maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil).status == .error)
        let debian = DoctorRules.userNamespaces(rootless: true, maxUserNamespaces: 1000, unprivilegedClone: 0, apparmorRestrict: nil)
        #expect(debian.status == .error)
        #expect(debian.fix?.contains("unprivileged_userns_clone=1") == true)
        let ubuntu = DoctorRules.userNamespaces(rootless: true, maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 1)
        #expect(ubuntu.status == .error)
        #expect(ubuntu.fix?.contains("apparmor_restrict_unprivileged_userns=0") == true)
        #expect(DoctorRules.userNamespaces(rootless: true, maxUserNamespaces: 1000, unprivilegedClone: 1, apparmorRestrict: 0).status == .ok)
        #expect(DoctorRules.userNamespaces(rootless: false, maxUserNamespaces: 1000, unprivilegedClone: 0, apparmorRestrict: 1).status == .ok)
    }

    @Test func subordinateRangesAndHelpers() {
        let bare = HostIdentity(uid: 1000, gid: 1000, name: "alice")
        let missing = DoctorRules.subordinateIDs(identity: bare)
        #expect(missing.status == .warning)
        #expect(missing.fix?.contains("usermod --add-subuids") == true)
        let ranges = [SubordinateRange(owner: "alice", start: 100000, count: 65536)]
        let ranged = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges)
        #expect(DoctorRules.subordinateIDs(identity: ranged).detail.contains("100000:65536"))

        let good = DoctorRules.Helper(name: "newuidmap", path: "/usr/bin/newuidmap", setuidRoot: true, hasFileCapabilities: false)
        let capped = DoctorRules.Helper(name: "newgidmap", path: "/usr/bin/newgidmap", setuidRoot: false, hasFileCapabilities: true)
        let plain = DoctorRules.Helper(name: "newgidmap", path: "/usr/bin/newgidmap", setuidRoot: false, hasFileCapabilities: false)
        let absent = DoctorRules.Helper(name: "newuidmap", path: nil, setuidRoot: false, hasFileCapabilities: false)
        #expect(DoctorRules.mappingHelpers([good, capped], identity: ranged).status == .ok)
        #expect(DoctorRules.mappingHelpers([good, plain], identity: ranged).status == .error)
        #expect(DoctorRules.mappingHelpers([absent, capped], identity: ranged).status == .warning)
        #expect(DoctorRules.mappingHelpers([absent, capped], identity: bare).status == .ok)
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
