import DevenvRuntime
@testable import DevenvSession
import Testing

@Suite struct WorkspaceSessionTests {
    let ranges = [SubordinateRange(owner: "alice", start: 100000, count: 65536)]

    func session(command: [String]? = ["make"], imageEnvironment: [String] = [], environment: [String] = []) -> WorkspaceSession {
        WorkspaceSession(lowerDirs: ["/s/1"], imageEnvironment: imageEnvironment, command: command, mountDirectory: "/home/alice/my project",
                         environment: environment, terminal: true, terminalType: "xterm-256color")
    }

    @Test func rootlessUserKeepsTheirIDsAndGetsAHome() {
        let host = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges)
        let spec = session().spec(for: host)
        #expect(spec.process.user == ContainerUser(uid: 1000, gid: 1000, name: "alice", home: "/home/alice"))
        #expect(spec.idMapping?.containerUID(forHost: 1000) == 1000)
        #expect(spec.mounts == [BindMount(source: "/home/alice/my project", destination: "/workspace")])
        #expect(spec.process.workingDirectory == "/workspace")
        #expect(spec.process.environment.contains("HOME=/home/alice"))
        #expect(spec.process.environment.contains("TERM=xterm-256color"))
        #expect(spec.capabilities == .containerDefault)
    }

    @Test func withoutRangesTheUserIsContainerRoot() {
        let spec = session().spec(for: HostIdentity(uid: 1000, gid: 1000, name: "alice"))
        #expect(spec.process.user == .root)
        #expect(spec.idMapping == .single(uid: 1000, gid: 1000))
    }

    @Test func rootRunsWithoutAUserNamespace() {
        let spec = session().spec(for: HostIdentity(uid: 0, gid: 0, name: "root"))
        #expect(spec.idMapping == nil)
        #expect(spec.process.user == .root)
        #expect(spec.process.environment.contains("HOME=/root"))
    }

    @Test func environmentLayersImageThenSessionThenOverrides() {
        let spec = session(imageEnvironment: ["PATH=/opt/bin:/bin", "LANG=C.UTF-8", "HOME=/image"], environment: ["LANG=en_US.UTF-8", "X=1"])
            .spec(for: HostIdentity(uid: 0, gid: 0, name: "root"))
        let environment = spec.process.environment
        #expect(environment.contains("PATH=/opt/bin:/bin"))
        #expect(environment.contains("LANG=en_US.UTF-8") && !environment.contains("LANG=C.UTF-8"))
        #expect(environment.contains("HOME=/root") && !environment.contains("HOME=/image"))
        #expect(environment.filter { $0.hasPrefix("LANG=") }.count == 1)
        #expect(environment.contains("X=1"))
        let defaulted = session().spec(for: HostIdentity(uid: 0, gid: 0, name: "root")).process.environment
        #expect(defaulted.contains("PATH=" + WorkspaceSession.defaultPath))
    }

    @Test func shellIsImageShellThenBashThenSh() {
        let host = HostIdentity(uid: 0, gid: 0, name: "root")
        let zsh = session(command: nil, imageEnvironment: ["SHELL=/bin/zsh"]).spec(for: host).process
        #expect(zsh.args == ["/bin/zsh"])
        #expect(zsh.fallbackExecutables == ["/bin/bash", "/bin/sh"])
        let plain = session(command: nil).spec(for: host).process
        #expect(plain.args == ["/bin/bash"])
        #expect(plain.fallbackExecutables == ["/bin/sh"])
        #expect(session().spec(for: host).process.fallbackExecutables.isEmpty)
    }

    @Test func hostNamesUnfitForPasswdAreReplaced() {
        #expect(WorkspaceSession.safeName("alice.b-c_d") == "alice.b-c_d")
        #expect(WorkspaceSession.safeName("a:b") == "user")
        #expect(WorkspaceSession.safeName("ünï") == "user")
        #expect(WorkspaceSession.safeName("-x") == "user")
    }

    @Test func specsFromSessionsValidate() throws {
        let host = HostIdentity(uid: 1000, gid: 1000, name: "alice", subordinateUIDs: ranges, subordinateGIDs: ranges)
        try SpecValidator.validate(session().spec(for: host))
        try SpecValidator.validate(session(command: nil).spec(for: HostIdentity(uid: 1000, gid: 1000, name: "alice")))
    }
}
