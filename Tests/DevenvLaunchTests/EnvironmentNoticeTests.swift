@testable import DevenvLaunch
import DevenvRuntime
import Testing

/// A session that joins an environment other than the one it would start is told so.
@Suite struct EnvironmentNoticeTests {
    static func spec(lower: String = "/s/a", hostname: String = "devenv", mounts: [BindMount] = []) -> ContainerSpec {
        ContainerSpec(rootfs: RootfsSpec(lowerDirs: [lower]), mounts: mounts, process: ProcessSpec(args: ["sh"]), hostname: hostname)
    }

    static func record(digest: String, spec: ContainerSpec) -> EnvironmentRecord {
        EnvironmentRecord(name: "default", project: "/p", image: "localhost/devenv/p:1", imageDigest: digest, started: 0,
                          initProcess: ProcessStamp(pid: 1, startTime: 1, bootID: "b"), detached: false, settings: EnvironmentSettings(spec))
    }

    static func request(digest: String, spec: ContainerSpec) -> EnvironmentRequest {
        var request = EnvironmentRequest(name: "default", project: "/p", image: "localhost/devenv/p:1", imageDigest: digest)
        request.settings = EnvironmentSettings(spec)
        return request
    }

    @Test func sameImageAndSettingsSayNothing() {
        var other = Self.spec()
        other.process = ProcessSpec(args: ["ls"], environment: ["A=1"], workingDirectory: "/tmp")
        #expect(EnvironmentExecution.rebuiltNotice(Self.record(digest: "sha256:a", spec: Self.spec()),
                                                   request: Self.request(digest: "sha256:a", spec: other)) == nil,
                "a session's own process is not the environment's")
    }

    @Test func aRebuiltImageIsNamedWithBothDigests() throws {
        let notice = try #require(EnvironmentExecution.rebuiltNotice(Self.record(digest: "sha256:old", spec: Self.spec()),
                                                                     request: Self.request(digest: "sha256:new", spec: Self.spec(lower: "/s/b"))))
        #expect(notice.contains("sha256:old") && notice.contains("sha256:new") && notice.contains("`devenv stop`"), "\(notice)")
    }

    @Test func otherMountsOrHostnameAreNamed() throws {
        let running = Self.record(digest: "sha256:a", spec: Self.spec())
        for asked in [Self.spec(hostname: "other"), Self.spec(mounts: [BindMount(source: "/h", destination: "/m")])] {
            let notice = try #require(EnvironmentExecution.rebuiltNotice(running, request: Self.request(digest: "sha256:a", spec: asked)))
            #expect(notice.contains("differ from this session's"), "\(notice)")
        }
    }
}
