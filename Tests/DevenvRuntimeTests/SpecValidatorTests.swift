@testable import DevenvRuntime
import Testing

@Suite struct SpecValidatorTests {
    func valid() -> ContainerSpec { MountPlanTests.spec() }

    func rejects(_ change: (inout ContainerSpec) -> Void, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        var spec = valid()
        change(&spec)
        let error = caught(RuntimeError.self, sourceLocation: sourceLocation) { try SpecValidator.validate(spec) }
        #expect(error?.kind == .invalidSpec, sourceLocation: sourceLocation)
        #expect(error?.message.contains(text) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
    }

    @Test func acceptsAPlainSpec() throws {
        try SpecValidator.validate(valid())
    }

    @Test func rejectsBadRootfs() {
        rejects({ $0.rootfs.lowerDirs = [] }, mentioning: "no lower directories")
        rejects({ $0.rootfs.lowerDirs = ["relative/dir"] }, mentioning: "absolute")
        rejects({ $0.rootfs.lowerDirs = Array(repeating: "/s", count: 501) }, mentioning: "limit of 500")
        rejects({ $0.rootfs.upper = .directory(upper: "u", work: "/w") }, mentioning: "upper directory")
    }

    @Test func rejectsMountsDevenvManagesOrEscapes() {
        rejects({ $0.mounts = [BindMount(source: "/x", destination: "/")] }, mentioning: "over /")
        rejects({ $0.mounts = [BindMount(source: "/x", destination: "/proc/sys")] }, mentioning: "/proc is managed")
        rejects({ $0.mounts = [BindMount(source: "/x", destination: "/dev")] }, mentioning: "/dev is managed")
        rejects({ $0.mounts = [BindMount(source: "/x", destination: "/a/../../etc")] }, mentioning: "'..'")
        rejects({ $0.mounts = [BindMount(source: "x", destination: "/w")] }, mentioning: "mount source")
        rejects({ $0.mounts = [BindMount(source: "/x", destination: "w")] }, mentioning: "absolute container path")
    }

    @Test func rejectsBadProcesses() {
        rejects({ $0.process.args = [] }, mentioning: "command: empty")
        rejects({ $0.process.args = ["a\u{0}b"] }, mentioning: "NUL")
        rejects({ $0.process.environment = ["NOEQUALS"] }, mentioning: "KEY=VALUE")
        rejects({ $0.process.environment = ["=v"] }, mentioning: "KEY=VALUE")
        rejects({ $0.process.workingDirectory = "/proc/../etc" }, mentioning: "'..'")
        rejects({ $0.process.user.name = "a:b" }, mentioning: "/etc/passwd")
        rejects({ $0.process.user.home = "home" }, mentioning: "home directory")
        rejects({ $0.hostname = "bad host" }, mentioning: "hostname")
        rejects({ $0.hostname = String(repeating: "h", count: 65) }, mentioning: "hostname")
    }

    @Test func rejectsUnmappedUsersAndUnsafeSecurity() {
        rejects({
            $0.idMapping = .single(uid: 1000, gid: 1000)
            $0.process.user = ContainerUser(uid: 1000, gid: 1000, name: "u", home: "/home/u")
        }, mentioning: "not mapped")
        rejects({ $0.capabilities.insert(.sysAdmin) }, mentioning: "CAP_SYS_ADMIN")
        rejects({ $0.seccomp = SeccompFilter(bytes: [1, 2, 3]) }, mentioning: "seccomp filter")
        rejects({ $0.seccomp = SeccompFilter(bytes: Array(repeating: 0, count: 8 * 4097)) }, mentioning: "seccomp filter")
    }
}
