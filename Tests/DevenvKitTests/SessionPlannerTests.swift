import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvSession
import DevenvStore
import Foundation
import Testing
@testable import DevenvKit
#if canImport(Glibc)
import Glibc
#endif

/// `SessionPlanner.plan` decides what a project session is from data alone: these read the
/// plan (and its ContainerSpec) for each project kind, without building or starting anything.
@Suite struct SessionPlannerTests {
    static let root = "/home/alice/My Project"
    static let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: root + "/src/lib",
                                  home: "/home/alice", environment: ["TERM": "screen", "FROM_HOST": "yes"])

    static func image(_ environment: [String] = ["PATH=/usr/bin:/bin", "SHELL=/bin/zsh"]) -> StoredImage {
        let config = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(Data("config".utf8)), size: 6)
        return StoredImage(name: "localhost/devenv/my-project:abc", manifestDescriptor: Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(Data("m".utf8)), size: 1),
                           manifest: ImageManifest(config: config, layers: []), config: ImageConfig(config: .init(env: environment)))
    }

    static func manifestProject(_ text: String) throws -> ProjectSource {
        .manifest(Project(root: root, manifest: try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml")))
    }

    static func devContainer(_ json: String) throws -> ProjectSource {
        .devContainer(try DevContainerProject.parse(Array(json.utf8), root: root, displayPath: ".devcontainer/devcontainer.json", environment: [:]))
    }

    static func plan(_ project: ProjectSource, command: [String]? = ["make"], task: String? = nil, arguments: [String] = [],
                     options: SessionOptions = SessionOptions(), host: SessionHost = host) throws -> SessionPlan {
        let chosen = try SessionPlanner.task(named: task, arguments: arguments, in: project)
        return try SessionPlanner.plan(.init(target: .project(project, image: image()), lowerDirs: ["/store/snapshots/a", "/store/snapshots/b"],
                                             options: options, command: task == nil ? command : nil, task: chosen, defaultTerminal: false, host: host))
    }

    static let manifest = """
        [base]
        image = "busybox:latest"

        [shell]
        mount = "/src"
        workdir = "/src/start"
        env = { EDITOR = "vim" }
        network = "none"
        mounts = ["~/.cache/pip:/cache/pip", "/data:/data:ro"]

        [tasks]
        test = "make test"
        build = ["make", "-j4"]
        serve = { run = "python3 -m http.server", workdir = "/srv/site", env = { PORT = "8000" } }

        [limits]
        memory = "1g"
        pids = 100
        """

    @Test func manifestProject() throws {
        let plan = try Self.plan(try Self.manifestProject(Self.manifest))
        #expect(plan.kind == .manifest && plan.image == "localhost/devenv/my-project:abc")
        let spec = plan.spec
        #expect(spec.rootfs.lowerDirs == ["/store/snapshots/a", "/store/snapshots/b"])
        #expect(spec.mounts == [BindMount(source: Self.root, destination: "/src"),
                                BindMount(source: "/home/alice/.cache/pip", destination: "/cache/pip"),
                                BindMount(source: "/data", destination: "/data", readOnly: true)])
        #expect(spec.process.args == ["make"])
        // The subdirectory devenv started in, at the same place under the mount point.
        #expect(spec.process.workingDirectory == "/src/src/lib")
        #expect(spec.hostname == "my-project")
        #expect(spec.network == .none)
        #expect(spec.limits.memory == 1 << 30 && spec.limits.pids == 100 && spec.limits.cpus == ResourceLimits.default.cpus)
        #expect(spec.process.environment.contains("EDITOR=vim") && spec.process.environment.contains("PATH=/usr/bin:/bin"))
        #expect(spec.process.environment.contains("HOSTNAME=my-project"))
    }

    @Test func optionsOverTheProject() throws {
        var options = SessionOptions()
        options.workdir = "/elsewhere"
        options.network = .host
        options.memory = "2g"
        options.tty = true
        options.environment = ["EDITOR=nano", "FROM_HOST", "MISSING"]
        let spec = try Self.plan(try Self.manifestProject(Self.manifest), options: options).spec
        #expect(spec.process.workingDirectory == "/elsewhere")
        #expect(spec.network == .host)
        #expect(spec.limits.memory == 2 << 30 && spec.limits.pids == 100)
        #expect(spec.process.terminal && spec.process.environment.contains("TERM=screen"))
        let environment = spec.process.environment
        #expect(environment.contains("EDITOR=nano") && !environment.contains("EDITOR=vim"))
        #expect(environment.contains("FROM_HOST=yes") && !environment.contains { $0.hasPrefix("MISSING") })
    }

    @Test func outsideTheProjectTheShellStartsInItsWorkdir() throws {
        var host = Self.host
        host.currentDirectory = "/tmp"
        let spec = try Self.plan(try Self.manifestProject(Self.manifest), command: nil, host: host).spec
        #expect(spec.process.workingDirectory == "/src/start")
        // No command: the image's $SHELL, with the usual fallbacks.
        #expect(spec.process.args == ["/bin/zsh"] && spec.process.fallbackExecutables == ["/bin/bash", "/bin/sh"])

        let withShell = try Self.plan(try Self.manifestProject("[base]\nimage = \"busybox\"\n[shell]\nshell = \"/bin/ash\"\n"), command: nil, host: host).spec
        #expect(withShell.process.args == ["/bin/ash"])
        #expect(withShell.mounts == [BindMount(source: Self.root, destination: "/workspace")])
        #expect(withShell.process.workingDirectory == "/workspace" && withShell.network == .host && withShell.limits == .default)
    }

    @Test func tasks() throws {
        let project = try Self.manifestProject(Self.manifest)
        let shellTask = try Self.plan(project, task: "test", arguments: ["unit", "it's"]).spec
        #expect(shellTask.process.args == ["/bin/sh", "-c", "make test", "sh", "unit", "it's"])
        #expect(try Self.plan(project, task: "test").spec.process.args == ["/bin/sh", "-c", "make test"])
        #expect(try Self.plan(project, task: "build", arguments: ["all"]).spec.process.args == ["make", "-j4", "all"])

        let serve = try Self.plan(project, task: "serve").spec
        #expect(serve.process.workingDirectory == "/srv/site")
        #expect(serve.process.environment.contains("PORT=8000") && serve.process.environment.contains("EDITOR=vim"))
        var options = SessionOptions()
        options.workdir = "/w"
        #expect(try Self.plan(project, task: "serve", options: options).spec.process.workingDirectory == "/w")

        let missing = try #require(throws: KitError.self) { try SessionPlanner.task(named: "tset", arguments: [], in: project) }
        #expect(missing == .noSuchTask(name: "tset", project: ".devenv/devenv.toml", available: ["test", "build", "serve"]))
        #expect("\(missing)" == "no task 'tset' in .devenv/devenv.toml (did you mean 'test'?); tasks: test, build, serve\nhint: to run a command, put it after --: devenv run -- tset")
    }

    /// `--hostname` and `--mount-target` mean in a project what they mean for an image;
    /// `--mount-dir` has no meaning there and is refused, never ignored.
    @Test func commandLineOptionsInAProject() throws {
        let project = try Self.manifestProject(Self.manifest)
        var options = SessionOptions()
        options.hostname = "box"
        options.mountTarget = "/work"
        let spec = try Self.plan(project, options: options).spec
        #expect(spec.hostname == "box" && spec.process.environment.contains("HOSTNAME=box"))
        #expect(spec.mounts.first == BindMount(source: Self.root, destination: "/work"))
        #expect(spec.process.workingDirectory == "/work/src/lib")
        var outside = Self.host
        outside.currentDirectory = "/elsewhere"
        #expect(try Self.plan(project, options: options, host: outside).spec.process.workingDirectory == "/work/start")

        options.mountDirectory = "/tmp"
        let error = try #require(throws: KitError.self) { try Self.plan(project, options: options) }
        #expect("\(error)".hasPrefix("--mount-dir does not apply in a project"))
        #expect(throws: KitError.self) { try SessionPlanner.checkProjectOptions(options) }
    }

    @Test func aHomeMountNeedsAHome() throws {
        var host = Self.host
        host.home = nil
        let error = try #require(throws: KitError.self) { try Self.plan(try Self.manifestProject(Self.manifest), host: host) }
        #expect(error == .noHomeForMount(target: "/cache/pip"))
    }

    @Test func devContainerProject() throws {
        let project = try Self.devContainer("""
            {
              "image": "busybox:latest",
              "workspaceFolder": "/code",
              "remoteEnv": { "EDITOR": "vi", "FROM_IMAGE": "${containerEnv:PATH}" },
              "mounts": ["source=/data,target=/data,type=bind,readonly"],
              "runArgs": ["--network=none"],
              "postStartCommand": "echo started",
            }
            """)
        let plan = try Self.plan(project)
        #expect(plan.kind == .devContainer)
        let spec = plan.spec
        #expect(spec.mounts == [BindMount(source: Self.root, destination: "/code"), BindMount(source: "/data", destination: "/data", readOnly: true)])
        #expect(spec.process.workingDirectory == "/code/src/lib")
        #expect(spec.network == .none && spec.hostname == "my-project" && spec.limits == .default)
        #expect(spec.process.environment.contains("EDITOR=vi") && spec.process.environment.contains("FROM_IMAGE=/usr/bin:/bin"))
        // The start command runs first, then the command.
        #expect(spec.process.args.prefix(2) == ["/bin/sh", "-c"] && spec.process.args.suffix(2) == ["devenv-start", "make"])
        #expect(spec.process.args[2].hasPrefix("{ echo started\n} || exit $?\n"))

        var host = Self.host
        host.currentDirectory = "/tmp"
        #expect(try Self.plan(project, host: host).spec.process.workingDirectory == "/code")

        let noTasks = try #require(throws: KitError.self) { try SessionPlanner.task(named: "test", arguments: [], in: project) }
        #expect("\(noTasks)" == "devcontainer.json projects have no [tasks]; run a command with: devenv run -- CMD")
    }

    @Test func startCommandsRunFirstThenTheCommandOrAShell() throws {
        #expect(SessionPlanner.startCommands([], then: ["make"]) == ["make"])
        let wrapped = try #require(SessionPlanner.startCommands([.shell("echo a"), .argv(["touch", "it's"])], then: ["make", "test"]))
        #expect(wrapped.prefix(2) == ["/bin/sh", "-c"])
        #expect(wrapped.suffix(3) == ["devenv-start", "make", "test"])
        #expect(wrapped[2].hasPrefix("{ echo a\n} || exit $?\n'touch' 'it'\\''s' || exit $?\nif [ $# -gt 0 ]; then exec \"$@\"; fi\n"))
        #expect(SessionPlanner.startCommands([.shell("x")], then: nil)?.last == "devenv-start")
    }

    @Test func rootfsAndImageSessionsUseTheSameContainerPolicy() throws {
        var options = SessionOptions()
        options.mountDirectory = "/home/alice/work"
        options.hostname = "box"
        let rootfs = try SessionPlanner.plan(.init(target: .rootfs, lowerDirs: ["/srv/rootfs"], options: options, command: ["true"],
                                                   defaultTerminal: false, host: Self.host))
        #expect(rootfs.kind == .rootfs && rootfs.image.isEmpty)
        #expect(rootfs.spec.mounts == [BindMount(source: "/home/alice/work", destination: WorkspaceSession.defaultMountTarget)])
        #expect(rootfs.spec.hostname == "box" && rootfs.spec.rootfs.lowerDirs == ["/srv/rootfs"])

        let image = try SessionPlanner.plan(.init(target: .image(name: "docker.io/library/busybox:latest", environment: ["SHELL=/bin/ash"]),
                                                  lowerDirs: ["/s/1"], options: options, command: nil, defaultTerminal: false, host: Self.host))
        #expect(image.kind == .image && image.image == "docker.io/library/busybox:latest" && image.spec.process.args == ["/bin/ash"])
        // The same spec the front end's fast path makes from the same options.
        let direct = try options.workspaceSession(lowerDirs: ["/s/1"], imageEnvironment: ["SHELL=/bin/ash"], command: nil, defaultTerminal: false)
        #expect(image.spec == direct.spec(for: Self.host.identity))
    }

    @Test func hostnames() {
        #expect(SessionPlanner.hostname("my-project") == "my-project")
        #expect(SessionPlanner.hostname("-.") == "devenv")
        #expect(SessionPlanner.hostname(String(repeating: "a", count: 80)).count == 63)
    }
}

/// Identity and environment inputs of a project session: `[shell] env` expansion,
/// `[shell] env_file`, `--env-file`, `-e` precedence, and ssh-agent forwarding.
@Suite struct SessionEnvironmentTests {
    /// A project directory on disk (env files are read from it).
    final class Directory {
        let path: String
        init() throws {
            var template = Array("/tmp/devenv-session-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
            path = String(cString: made)
        }
        func write(_ name: String, _ text: String) throws { try text.write(toFile: "\(path)/\(name)", atomically: false, encoding: .utf8) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func plan(_ manifest: String, root: String, options: SessionOptions = SessionOptions(), task: String? = nil,
                     environment: [String: String] = ["FROM_HOST": "host"]) throws -> ContainerSpec {
        let project = ProjectSource.manifest(Project(root: root, manifest: try Manifest.parse(Array(manifest.utf8), path: ".devenv/devenv.toml")))
        let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: root, home: "/root", environment: environment)
        let chosen = try SessionPlanner.task(named: task, arguments: [], in: project)
        return try SessionPlanner.plan(.init(target: .project(project, image: SessionPlannerTests.image()), lowerDirs: ["/s"], options: options,
                                             command: task == nil ? ["true"] : nil, task: chosen, defaultTerminal: false, host: host)).spec
    }

    static func value(_ name: String, in spec: ContainerSpec) -> String? {
        spec.process.environment.last { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// The bug: `PATH = "/x:$PATH"` reached the container literally, so no command was found.
    @Test func shellEnvExpandsAgainstTheImage() throws {
        let manifest = "[base]\nimage = \"b\"\n[shell]\nenv = { PATH = \"/x:$PATH\", LIB = \"${PATH}/lib\", KEEP = \"\\\\$PATH\" }\n[tasks]\nt = { run = \"true\", env = { PATH = \"/t:$PATH\" } }\n"
        let spec = try Self.plan(manifest, root: "/p")
        #expect(Self.value("PATH", in: spec) == "/x:/usr/bin:/bin")
        #expect(Self.value("LIB", in: spec) == "/x:/usr/bin:/bin/lib")
        #expect(Self.value("KEEP", in: spec) == "$PATH")
        #expect(Self.value("PATH", in: try Self.plan(manifest, root: "/p", task: "t")) == "/t:/x:/usr/bin:/bin")
    }

    /// image < env_file < [shell] env < task env < --env-file < -e; env files are literal.
    @Test func precedence() throws {
        let directory = try Directory()
        try directory.write(".env", "A=file\nB=file\nC=file\nD=file\nE=file\nREF=$A\nFROM_HOST\n")
        try directory.write("cli.env", "D=cli-file\nE=cli-file\n")
        let manifest = "[base]\nimage = \"b\"\n[shell]\nenv_file = \".env\"\nenv = { B = \"shell\", C = \"shell+$C\", D = \"shell\", E = \"shell\" }\n[tasks]\nt = { run = \"true\", env = { C = \"task\" } }\n"
        var options = SessionOptions()
        options.envFiles = ["\(directory.path)/cli.env"]
        options.environment = ["E=flag"]
        let spec = try Self.plan(manifest, root: directory.path, options: options, task: "t")
        #expect(Self.value("A", in: spec) == "file")
        #expect(Self.value("B", in: spec) == "shell")
        #expect(Self.value("C", in: spec) == "task")
        #expect(Self.value("D", in: spec) == "cli-file")
        #expect(Self.value("E", in: spec) == "flag")
        #expect(Self.value("REF", in: spec) == "$A")
        #expect(Self.value("FROM_HOST", in: spec) == "host")
        // [shell] env expands against the env file's values.
        #expect(Self.value("C", in: try Self.plan(manifest, root: directory.path)) == "shell+file")
    }

    @Test func envFileProblemsAreLocatedManifestErrors() throws {
        let directory = try Directory()
        let manifest = "[base]\nimage = \"b\"\n[shell]\nenv_file = \"missing.env\"\n"
        let missing = #expect(throws: KitError.self) { try Self.plan(manifest, root: directory.path) }
        #expect(missing?.description.contains(".devenv/devenv.toml:4") == true && missing?.description.contains("'missing.env' does not exist") == true,
                "\(String(describing: missing))")
        // A symlink is resolved inside the project: it cannot read a host file into the environment.
        try directory.write("secret", "LEAK=outside\n")
        let inner = try Directory()
        symlink("\(directory.path)/secret", "\(inner.path)/.env")
        let escaped = #expect(throws: KitError.self) { try Self.plan(manifest.replacingOccurrences(of: "missing.env", with: ".env"), root: inner.path) }
        #expect(escaped != nil)
        try inner.write("bad.env", "NAME WITH SPACE=1\n")
        let bad = #expect(throws: KitError.self) { try Self.plan(manifest.replacingOccurrences(of: "missing.env", with: "bad.env"), root: inner.path) }
        #expect(bad?.description.contains("contains whitespace") == true)
        #expect(throws: (any Error).self) { try Manifest.parse(Array("[base]\nimage = \"b\"\n[shell]\nenv_file = \"../x\"\n".utf8), path: "m") }
    }

    /// The agent's socket itself is bound at a fixed path, and SSH_AUTH_SOCK names it; off
    /// by `[shell] ssh_agent = false` or `--no-ssh-agent`; a stale variable is skipped.
    @Test func sshAgentForwarding() throws {
        let directory = try Directory()
        let socketPath = "\(directory.path)/agent.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in socketPath.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        let manifest = "[base]\nimage = \"b\"\n"
        let agent = BindMount(source: socketPath, destination: SSHAgentForwarding.containerSocket)
        let spec = try Self.plan(manifest, root: "/p", environment: ["SSH_AUTH_SOCK": socketPath])
        #expect(spec.mounts.contains(agent))
        #expect(Self.value("SSH_AUTH_SOCK", in: spec) == SSHAgentForwarding.containerSocket)

        let off = try Self.plan(manifest + "[shell]\nssh_agent = false\n", root: "/p", environment: ["SSH_AUTH_SOCK": socketPath])
        #expect(!off.mounts.contains(agent) && Self.value("SSH_AUTH_SOCK", in: off) == nil)
        var options = SessionOptions()
        options.sshAgent = false
        let flagged = try Self.plan(manifest, root: "/p", options: options, environment: ["SSH_AUTH_SOCK": socketPath])
        #expect(!flagged.mounts.contains(agent) && Self.value("SSH_AUTH_SOCK", in: flagged) == nil)

        // Not a socket, or gone: the session starts without an agent.
        for stale in ["\(directory.path)/gone.sock", directory.path, "relative.sock"] {
            let spec = try Self.plan(manifest, root: "/p", environment: ["SSH_AUTH_SOCK": stale])
            #expect(spec.mounts.count == 1 && Self.value("SSH_AUTH_SOCK", in: spec) == nil, "\(stale)")
        }
        #expect(throws: (any Error).self) { try Manifest.parse(Array("[base]\nimage = \"b\"\n[shell]\nssh_agent = \"no\"\n".utf8), path: "m") }
    }
}

extension SessionEnvironmentTests {
    /// `-u NAME` comes from the image's accounts; numeric ids need none; an unknown name is an error.
    @Test func userOption() throws {
        let directory = try Directory()
        try FileManager.default.createDirectory(atPath: "\(directory.path)/etc", withIntermediateDirectories: true)
        try directory.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndev:x:1500:1600:Dev:/home/dev:/bin/sh\n")
        try directory.write("etc/group", "root:x:0:\ndev:x:1600:\n")
        let project = ProjectSource.manifest(Project(root: "/p", manifest: try Manifest.parse(Array("[base]\nimage = \"b\"\n".utf8), path: "m")))
        let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: "/p", home: "/root", environment: [:])
        func plan(_ user: String) throws -> ContainerSpec {
            var options = SessionOptions()
            options.user = user
            return try SessionPlanner.plan(.init(target: .project(project, image: SessionPlannerTests.image()), lowerDirs: [directory.path], options: options,
                                                 command: ["id"], defaultTerminal: false, host: host)).spec
        }
        let named = try plan("dev")
        #expect(named.process.user.uid == 1500 && named.process.user.gid == 1600 && named.process.user.home == "/home/dev")
        #expect(Self.value("HOME", in: named) == "/home/dev" && Self.value("USER", in: named) == "dev")
        let numeric = try plan("4321:4322").process.user
        #expect(numeric.uid == 4321 && numeric.gid == 4322)
        #expect(throws: KitError.self) { try plan("nobody-here") }
    }
}
