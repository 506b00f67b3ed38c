@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The developer's identity and environment inside a project session, end to end, as root
/// and as the unprivileged test user: the host's ssh agent answers `ssh-add -l` inside, env
/// files and flags stack in their documented order, and a changed env file is never missed by
/// the front end's warm start.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("ssh-agent", "ssh-add", "ssh-keygen"), "needs root (to act as the test user) and openssh-client"),
       .timeLimit(.minutes(20)))
struct SessionIdentityTests {
    static let manifest = """
    [base]
    image = "busybox:it"

    [shell]
    env_file = ".env"
    env = { PATH = "/opt/tools:$PATH", FROM_SHELL = "shell", BOTH = "shell" }
    """

    /// A real agent (started as the session's user, its socket in that user's 0700
    /// directory) holding a fresh key; ssh-add itself, with its libraries, is copied into the
    /// working tree, because the busybox image has none.
    @Test(arguments: DevenvUser.allCases)
    func sshAddListsTheHostsKeys(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["ssh-agent", "ssh-add", "ssh-keygen"])
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        let agentDirectory = project.scratch.file("agent")
        try FileManager.default.createDirectory(atPath: agentDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try copyProgram("ssh-add", into: "\(project.root)/ssh")
        try project.runner.own(project.scratch.path)
        let socket = "\(agentDirectory)/agent.sock"
        let key = "\(agentDirectory)/id_ed25519"
        try asUser(project, "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "devenv-test-key", "-f", key])
        let agent = try startAgent(project, socket: socket)
        defer { kill(agent.processIdentifier, SIGKILL); agent.waitUntilExit() }
        try asUser(project, "ssh-add", [key], environment: ["SSH_AUTH_SOCK": socket])
        let fingerprint = try #require(try asUser(project, "ssh-keygen", ["-lf", key + ".pub"]).stdout.split(separator: " ").dropFirst().first)

        let sshAdd = ["/workspace/ssh/ld.so", "--library-path", "/workspace/ssh", "/workspace/ssh/ssh-add", "-l"]
        let inside = try project.runner.devenv(["run", "--"] + sshAdd, environment: ["SSH_AUTH_SOCK": socket], directory: project.root, timeout: 120)
        #expect(inside.succeeded && inside.stdout.contains(String(fingerprint)) && inside.stdout.contains("devenv-test-key"), "\(inside.stdout)\(inside.stderr)")

        let off = try project.runner.devenv(["run", "--no-ssh-agent", "--", "sh", "-c", "echo ${SSH_AUTH_SOCK:-none}; ls /run/devenv 2>&1"],
                                            environment: ["SSH_AUTH_SOCK": socket], directory: project.root, timeout: 120)
        #expect(off.stdout.hasPrefix("none\n") && !off.stdout.contains("ssh-agent.sock"), "\(off.stdout)\(off.stderr)")
        // A stale variable (the agent gone) starts the session without one.
        let stale = try project.runner.devenv(["run", "--", "sh", "-c", "echo ${SSH_AUTH_SOCK:-none}"],
                                              environment: ["SSH_AUTH_SOCK": socket + ".gone"], directory: project.root, timeout: 120)
        #expect(stale.succeeded && stale.stdout == "none\n", "\(stale.stdout)\(stale.stderr)")
    }

    /// image < `[shell] env_file` < `[shell] env` (expanded) < `--env-file` < `-e`; and the
    /// warm start notices an edited env file.
    @Test(arguments: DevenvUser.allCases)
    func envFilePrecedenceAndTheWarmStart(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write(".env", "# the project's\nFROM_FILE=file\nBOTH=file\nCLI=file\nQUOTED=\"as is\"\n")
        try project.write("cli.env", "CLI=cli-file\nFLAG=cli-file\n")
        let show = ["sh", "-c", "echo $FROM_FILE $BOTH $FROM_SHELL $CLI $FLAG $QUOTED; echo $PATH"]
        let full = try project.devenv(["run", "--env-file", "cli.env", "-e", "FLAG=flag", "--"] + show, timeout: 120)
        let lines = full.stdout.split(separator: "\n")
        #expect(lines.first == "file shell shell cli-file flag \"as is\"", "\(full.stdout)\(full.stderr)")
        #expect(lines.count == 2 && lines[1].hasPrefix("/opt/tools:/") && lines[1].hasSuffix("/bin"), "\(full.stdout)")
        // `PATH = "/opt/tools:$PATH"` used to leave PATH literally "/opt/tools:$PATH": nothing was found.
        let found = try project.devenv(["run", "--", "true"], timeout: 120)
        #expect(found.succeeded, "\(found.stderr)")

        let plain = ["run", "--", "sh", "-c", "echo $FROM_FILE"]
        _ = try project.devenv(plain, timeout: 120)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try project.devenv(plain, timeout: 120).stdout == "file\n")
        let records = (try? FileManager.default.contentsOfDirectory(atPath: "\(project.store)/warm")) ?? []
        #expect(records.contains { $0.hasSuffix(".json") }, "a warm record is written for a project with an env file")
        try project.write(".env", "FROM_FILE=edit\n")
        let edited = try project.devenv(plain, timeout: 120)
        #expect(edited.stdout == "edit\n", "the warm start missed the edited env file: \(edited.stderr)")

        try project.write(".env", "BAD NAME=1\n")
        let bad = try project.devenv(plain, timeout: 120)
        #expect(bad.status == 125 && bad.stderr.contains(".devenv/devenv.toml:5") && bad.stderr.contains("contains whitespace"), "\(bad.stderr)")
    }

    /// git inside (the host's, copied into the tree) sees the host user's name and email and
    /// trusts the working tree; the configuration is read-only; `--no-git-identity` leaves it out.
    @Test(arguments: DevenvUser.allCases)
    func gitSeesTheHostIdentity(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["git"])
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        let home = project.runner.home ?? project.scratch.file("root-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "[user]\n\tname = Ada \\\"The\\\" Dev\n\temail = ada@example.com\n[credential]\n\thelper = store\n".write(toFile: "\(home)/.gitconfig", atomically: false, encoding: .utf8)
        try copyProgram("git", into: "\(project.root)/tools")
        try project.runner.own(project.scratch.path)
        let git = "/workspace/tools/ld.so --library-path /workspace/tools /workspace/tools/git"
        let script = "\(git) config user.name; \(git) config user.email; \(git) config --get-all safe.directory; \(git) config credential.helper || echo no-helper; "
            + "echo x >> $GIT_CONFIG_GLOBAL 2>/dev/null && echo writable || echo read-only"
        let inside = try project.runner.devenv(["run", "--", "sh", "-c", script], environment: ["HOME": home], directory: project.root, timeout: 120)
        #expect(inside.stdout == "Ada \"The\" Dev\nada@example.com\n/workspace\nno-helper\nread-only\n", "\(inside.stdout)\(inside.stderr)")
        let off = try project.runner.devenv(["run", "--no-git-identity", "--", "sh", "-c", "echo ${GIT_CONFIG_GLOBAL:-none}"],
                                            environment: ["HOME": home], directory: project.root, timeout: 120)
        #expect(off.stdout == "none\n", "\(off.stdout)\(off.stderr)")
    }

    /// `[shell] dotfiles`: bound read-only at the same place below the container user's home
    /// (a symlink followed), the rest of `$HOME` the user's to write in (the directories on the
    /// way to a dotfile too), a missing one a warning at its line, `--no-dotfiles` leaving them out.
    @Test(arguments: DevenvUser.allCases)
    func dotfilesAreBoundReadOnly(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: """
            [base]
            image = "busybox:it"

            [shell]
            dotfiles = ["~/.bashrc", "~/.config/nvim", "~/.profile", "~/.missing", { path = "~/.git-credentials", writable = true }]
            """, as: user)
        let home = project.runner.home ?? project.scratch.file("root-home")
        try FileManager.default.createDirectory(atPath: "\(home)/.config/nvim", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(home)/dotfiles", withIntermediateDirectories: true)
        try "alias ll='ls -l'\n".write(toFile: "\(home)/.bashrc", atomically: false, encoding: .utf8)
        try "set number\n".write(toFile: "\(home)/.config/nvim/init.vim", atomically: false, encoding: .utf8)
        try "export FROM_PROFILE=1\n".write(toFile: "\(home)/dotfiles/profile", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(home)/.profile", withDestinationPath: "dotfiles/profile")
        try "https://old@example.com\n".write(toFile: "\(home)/.git-credentials", atomically: false, encoding: .utf8)
        try project.runner.own(project.scratch.path)
        let script = "cat ~/.bashrc ~/.config/nvim/init.vim ~/.profile; echo x >> ~/.bashrc 2>/dev/null && echo wrote || echo read-only; "
            + "touch ~/new && mkdir ~/.config/other && echo home-writable; test \"$(stat -c %u ~ ~/.config | sort -u)\" = \"$(id -u)\" && echo owned; "
            + "echo https://new@example.com >> ~/.git-credentials && echo refreshed"
        let run = try project.runner.devenv(["run", "--", "sh", "-c", script], environment: ["HOME": home], directory: project.root, timeout: 120)
        #expect(run.succeeded && run.stdout == "alias ll='ls -l'\nset number\nexport FROM_PROFILE=1\nread-only\nhome-writable\nowned\nrefreshed\n", "\(run.stdout)\(run.stderr)")
        #expect(try String(contentsOfFile: "\(home)/.git-credentials", encoding: .utf8) == "https://old@example.com\nhttps://new@example.com\n")
        #expect(run.stderr.contains(".devenv/devenv.toml:5:58: warning: [shell] dotfiles: '~/.missing' does not exist on this host; it is not bound"), "\(run.stderr)")
        #expect(try String(contentsOfFile: "\(home)/.bashrc", encoding: .utf8) == "alias ll='ls -l'\n")

        let off = try project.runner.devenv(["run", "--no-dotfiles", "--", "sh", "-c", "test -e ~/.bashrc && echo bound || echo none"],
                                            environment: ["HOME": home], directory: project.root, timeout: 120)
        #expect(off.succeeded && off.stdout == "none\n" && !off.stderr.contains("warning"), "\(off.stdout)\(off.stderr)")
    }

    /// `[shell] home = "persistent"`: what one environment leaves in `$HOME` the next finds
    /// (each `run` here is an environment of its own, ended when it exits), the home is the
    /// session user's inside and, rootless, the invoking user's on the host; the default
    /// stays ephemeral.
    @Test(arguments: DevenvUser.allCases)
    func aPersistentHomeOutlivesItsEnvironment(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n\n[shell]\nhome = \"persistent\"\n", as: user)
        let first = try project.devenv(["run", "--", "sh", "-c", "echo kept > ~/note && mkdir -p ~/.cache/tool && test \"$(stat -c %u ~)\" = \"$(id -u)\" && echo owned"], timeout: 120)
        #expect(first.succeeded && first.stdout == "owned\n", "\(first.stdout)\(first.stderr)")
        for round in 1...2 {
            // The second round may be the front end's warm start, from the record the first left.
            Thread.sleep(forTimeInterval: 1.1)
            let again = try project.devenv(["run", "--", "sh", "-c", "cat ~/note; ls -d ~/.cache/tool"], timeout: 120)
            #expect(again.succeeded && again.stdout.hasPrefix("kept\n"), "round \(round): \(again.stdout)\(again.stderr)")
        }
        let projects = "\(project.store)/projects"
        let homes = try FileManager.default.contentsOfDirectory(atPath: projects).map { "\(projects)/\($0)/homes" }.filter { FileManager.default.fileExists(atPath: $0) }
        let note = try #require(homes.first.map { "\($0)/\(project.runner.account.map { String($0.uid) } ?? "0")/note" })
        var info = stat()
        #expect(lstat(note, &info) == 0 && info.st_uid == (project.runner.account?.uid ?? 0), "\(note) belongs to the user on the host")

        try project.write(".devenv/devenv.toml", "[base]\nimage = \"busybox:it\"\n")
        let ephemeral = try project.devenv(["run", "--", "sh", "-c", "test -e ~/note && echo kept || echo fresh"], timeout: 120)
        #expect(ephemeral.stdout == "fresh\n", "\(ephemeral.stdout)\(ephemeral.stderr)")
    }

    /// A service built from the project's environment is no developer's session: it gets
    /// neither the dotfiles nor the kept home.
    @Test(arguments: DevenvUser.allCases)
    func servicesGetNoDotfilesNorTheKeptHome(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: """
            [base]
            image = "busybox:it"

            [shell]
            home = "persistent"
            dotfiles = ["~/.bashrc"]

            [services.probe]
            command = "{ test -e ~/.bashrc && echo dotfile || echo no-dotfile; } > /workspace/probe.tmp && mv /workspace/probe.tmp /workspace/probe.txt && exec sleep 300"
            """, as: user)
        let home = project.runner.home ?? project.scratch.file("root-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "alias ll='ls -l'\n".write(toFile: "\(home)/.bashrc", atomically: false, encoding: .utf8)
        try project.runner.own(project.scratch.path)
        let up = try project.runner.devenv(["up", "probe"], environment: ["HOME": home], directory: project.root, timeout: 120)
        defer { _ = try? project.runner.devenv(["down"], environment: ["HOME": home], directory: project.root, timeout: 120) }
        #expect(up.succeeded, "\(up.stderr)")
        let probe = "\(project.root)/probe.txt"
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: probe) { usleep(100_000) }
        #expect((try? String(contentsOfFile: probe, encoding: .utf8)) == "no-dotfile\n")
        let projects = (try? FileManager.default.contentsOfDirectory(atPath: "\(project.store)/projects")) ?? []
        #expect(!projects.contains { FileManager.default.fileExists(atPath: "\(project.store)/projects/\($0)/homes") }, "no kept home for a service")
    }

    /// A credential helper's socket under the home, forwarded by listing it in `[shell]
    /// dotfiles`: a real ssh-agent there answers `ssh-add -l` inside through the read-only
    /// bind (the session's own agent forwarding off, so only the dotfile can answer).
    @Test(arguments: DevenvUser.allCases)
    func aCredentialSocketUnderTheHomeIsForwarded(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["ssh-agent", "ssh-add", "ssh-keygen"])
        let project = try ProjectFixture(manifest: """
            [base]
            image = "busybox:it"

            [shell]
            ssh_agent = false
            dotfiles = ["~/.ssh/agent.sock"]
            """, as: user)
        let home = project.runner.home ?? project.scratch.file("root-home")
        try FileManager.default.createDirectory(atPath: "\(home)/.ssh", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try copyProgram("ssh-add", into: "\(project.root)/ssh")
        try project.runner.own(project.scratch.path)
        let key = "\(home)/.ssh/id_ed25519"
        try asUser(project, "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "devenv-dotfile-key", "-f", key])
        let agent = try startAgent(project, socket: "\(home)/.ssh/agent.sock")
        defer { kill(agent.processIdentifier, SIGKILL); agent.waitUntilExit() }
        try asUser(project, "ssh-add", [key], environment: ["SSH_AUTH_SOCK": "\(home)/.ssh/agent.sock"])
        let sshAdd = "SSH_AUTH_SOCK=$HOME/.ssh/agent.sock /workspace/ssh/ld.so --library-path /workspace/ssh /workspace/ssh/ssh-add -l"
        let inside = try project.runner.devenv(["run", "--", "sh", "-c", sshAdd], environment: ["HOME": home], directory: project.root, timeout: 120)
        #expect(inside.succeeded && inside.stdout.contains("devenv-dotfile-key"), "\(inside.stdout)\(inside.stderr)")
        let keys = try project.runner.devenv(["run", "--", "sh", "-c", "ls ~/.ssh"], environment: ["HOME": home], directory: project.root, timeout: 120)
        #expect(keys.stdout == "agent.sock\n", "only the socket, never the keys beside it: \(keys.stdout)\(keys.stderr)")
    }

    /// `-v SRC:DST:ro` is read-only inside (a write fails), `-v SRC:DST` writes through to
    /// the host, SRC is relative to the project, and a destination devenv manages is refused.
    @Test(arguments: DevenvUser.allCases)
    func volumes(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        try project.write("data/in.txt", "input\n")
        try project.write("out/.keep", "")
        let script = "cat /data/in.txt; echo x > /data/new 2>/dev/null && echo wrote || echo refused; echo result > /out/result"
        let run = try project.devenv(["run", "-v", "data:/data:ro", "--volume", "out:/out", "--", "sh", "-c", script], in: "out", timeout: 120)
        #expect(run.succeeded && run.stdout == "input\nrefused\n", "\(run.stdout)\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(project.root)/data/new"))
        #expect((try? String(contentsOfFile: "\(project.root)/out/result", encoding: .utf8)) == "result\n")
        // -u with ids the image has no account for, -w into the volume.
        let asUser = try project.devenv(["run", "-v", "data:/data:ro", "-u", "4321:4322", "-w", "/data", "--", "sh", "-c", "id -u; id -g; pwd"], timeout: 120)
        #expect(asUser.stdout == "4321\n4322\n/data\n", "\(asUser.stdout)\(asUser.stderr)")
        let hostile = try project.devenv(["run", "-v", "data:/proc/x", "--", "true"], timeout: 120)
        #expect(hostile.status == 125 && hostile.stderr.contains("/proc is managed by devenv"), "\(hostile.stderr)")
    }

    /// `--device` binds the host's node (never mknod), rootless too; a file is not a device.
    @Test(arguments: DevenvUser.allCases)
    func hostDevice(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        let script = "ls -l /dev/mynull | cut -c1; echo x > /dev/mynull && echo wrote; head -c 4 /dev/myzero | od -An -tx1"
        let run = try project.devenv(["run", "--device", "/dev/null:/dev/mynull", "--device", "/dev/zero:/dev/myzero:rw", "--", "sh", "-c", script], timeout: 120)
        #expect(run.succeeded && run.stdout == "c\nwrote\n 00 00 00 00\n", "\(run.stdout)\(run.stderr)")
        let notADevice = try project.devenv(["run", "--device", "/etc/passwd:/dev/passwd", "--", "true"], timeout: 120)
        #expect(notADevice.status == 125 && notADevice.stderr.contains("not a character or block device"), "\(notADevice.stderr)")
    }

    /// A CDI device from a spec in /etc/cdi, JSON or YAML: its node, mount and environment
    /// inside; and `doctor` lists both.
    @Test(arguments: DevenvUser.allCases)
    func cdiDevice(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: "[base]\nimage = \"busybox:it\"\n", as: user)
        try FileManager.default.createDirectory(atPath: "/etc/cdi", withIntermediateDirectories: true)
        let specPath = "/etc/cdi/devenv-test-\(user).json"
        let spec = """
        {"cdiVersion": "0.6.0", "kind": "devenv.test/dev-\(user)", "devices": [{"name": "null", "containerEdits": {
          "deviceNodes": [{"path": "/dev/devenv-null", "hostPath": "/dev/null"}], "env": ["DEVENV_CDI=null"],
          "mounts": [{"hostPath": "\(project.root)", "containerPath": "/opt/cdi", "options": ["ro"]}]}}]}
        """
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        defer { unlink(specPath) }
        // The same device as YAML, the form `nvidia-ctk cdi generate` writes.
        let yamlPath = "/etc/cdi/devenv-test-\(user).yaml"
        try """
        cdiVersion: 0.6.0
        kind: devenv.test/yaml-\(user)
        devices:
          - name: "null"
            containerEdits:
              deviceNodes:
                - path: /dev/devenv-null
                  hostPath: /dev/null
              env: [DEVENV_CDI=yaml]
        """.write(toFile: yamlPath, atomically: true, encoding: .utf8)
        defer { unlink(yamlPath) }
        let script = "ls -l /dev/devenv-null | cut -c1; echo x > /dev/devenv-null && echo $DEVENV_CDI; test -d /opt/cdi/.devenv && echo mounted"
        let run = try project.devenv(["run", "--device", "devenv.test/dev-\(user)=null", "--", "sh", "-c", script], timeout: 120)
        #expect(run.succeeded && run.stdout == "c\nnull\nmounted\n", "\(run.stdout)\(run.stderr)")
        let yaml = try project.devenv(["run", "--device", "devenv.test/yaml-\(user)=null", "--", "sh", "-c", "ls -l /dev/devenv-null | cut -c1; echo $DEVENV_CDI"], timeout: 120)
        #expect(yaml.succeeded && yaml.stdout == "c\nyaml\n", "\(yaml.stdout)\(yaml.stderr)")
        let doctor = try project.devenv(["doctor"], timeout: 120)
        #expect(doctor.stdout.contains("devenv.test/dev-\(user)=null") && doctor.stdout.contains("devenv.test/yaml-\(user)=null"), "\(doctor.stdout)")
        let gpus = try project.devenv(["run", "--gpus", "all", "--", "true"], timeout: 120)
        #expect(gpus.status != 0 && gpus.stderr.contains("nvidia.com/gpu=all"), "\(gpus.stderr)")
    }

    // MARK: helpers

    @discardableResult
    func asUser(_ project: ProjectFixture, _ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> DevenvProcess.Result {
        let path = try DevenvProcess.which(program)
        let (executable, line) = project.runner.account.map { $0.command(path, arguments, home: project.runner.home, environment: environment) }
            ?? ("/usr/bin/env", environment.map { "\($0.key)=\($0.value)" } + [path] + arguments)
        let result = try DevenvProcess.run(executable, line, timeout: 60)
        guard result.succeeded else { throw TestFailure("\(program) \(arguments): \(result.stderr)") }
        return result
    }

    func startAgent(_ project: ProjectFixture, socket: String) throws -> Process {
        let path = try DevenvProcess.which("ssh-agent")
        let (executable, line) = project.runner.account.map { $0.command(path, ["-D", "-a", socket], home: project.runner.home) } ?? (path, ["-D", "-a", socket])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = line
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 where access(socket, F_OK) != 0 { Thread.sleep(forTimeInterval: 0.05) }
        guard access(socket, F_OK) == 0 else { throw TestFailure("ssh-agent made no socket at \(socket)") }
        return process
    }

    /// The host's `name`, its libraries and the dynamic loader (as `ld.so`), into `directory`:
    /// the busybox image has neither ssh-add nor git.
    func copyProgram(_ name: String, into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let program = try DevenvProcess.which(name)
        let listing = try DevenvProcess.run("ldd", [program]).stdout
        for line in listing.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let path = words.first(where: { $0.hasPrefix("/") }).map(String.init) else { continue }
            let name = path.contains("ld-linux") ? "ld.so" : (path as NSString).lastPathComponent
            // The file, not a symlink to it (an absolute link dangles inside).
            try FileManager.default.copyItem(atPath: try resolved(path), toPath: "\(directory)/\(name)")
        }
        try FileManager.default.copyItem(atPath: try resolved(program), toPath: "\(directory)/\(name)")
    }

    func resolved(_ path: String) throws -> String {
        guard let real = realpath(path, nil) else { throw TestFailure("realpath \(path): errno \(errno)") }
        defer { free(real) }
        return String(cString: real)
    }
}
