import DevenvManifest
import DevenvPlan
import DevenvRuntime
import DevenvSession
import DevenvStore
import DevenvSystem
import DevenvText
import Foundation

/// What a `devenv run`/`devenv shell` means, decided in one place from data: the project
/// kind (manifest, devcontainer.json, `--image`, `--rootfs`), the image, the working tree's
/// mount point and the extra mounts, the environment, the limits, the hostname, the working
/// directory, the command or task. Pure: the caller builds the image and mounts its
/// snapshots, and `plan(_:)` returns the container to start.
public enum SessionPlanner {
    /// Everything a plan depends on.
    public struct Input: Sendable {
        public enum Target: Sendable {
            /// A project and its built environment image.
            case project(ProjectSource, image: StoredImage)
            /// `--image`: the image's config environment.
            case image(name: String, environment: [String])
            /// `--rootfs DIR`.
            case rootfs

            var isProject: Bool {
                if case .project = self { return true }
                return false
            }
        }

        public var target: Target
        /// The image's snapshot directories (or the `--rootfs` directory), topmost first.
        public var lowerDirs: [String]
        /// `devenv run`/`shell` options as given.
        public var options: SessionOptions
        /// The command; nil starts a shell.
        public var command: [String]?
        /// `devenv run TASK`: from `task(named:arguments:in:)`.
        public var task: SessionTask?
        /// Whether a terminal is used when `--tty`/`--no-tty` is not given.
        public var defaultTerminal: Bool
        public var host: SessionHost
        /// For projects; `--image`/`--rootfs` sessions compile their own (`SessionOptions`).
        public var seccomp: SeccompFilter?
        /// The store, where a project's named volumes are (devcontainer.json `mounts`).
        public var store: StoreLayout?
        /// The project's `ProjectState.homesPath`, for `[shell] home = "persistent"`; nil keeps
        /// no home (a service's container is no developer's session).
        public var persistentHomes: String?

        public init(target: Target, lowerDirs: [String], options: SessionOptions, command: [String]?, task: SessionTask? = nil,
                    defaultTerminal: Bool, host: SessionHost, seccomp: SeccompFilter? = nil, store: StoreLayout? = nil) {
            self.target = target
            self.lowerDirs = lowerDirs
            self.options = options
            self.command = command
            self.task = task
            self.defaultTerminal = defaultTerminal
            self.host = host
            self.seccomp = seccomp
            self.store = store
        }
    }

    /// The session `input` describes.
    public static func plan(_ input: Input) throws -> SessionPlan {
        if input.options.network == .private, !input.target.isProject {
            // A private network is a project's: its services and sessions share it.
            throw KitError.invalidOption(option: "--network", value: "private", allowed: ["host", "none"])
        }
        switch input.target {
        case let .project(project, image):
            return try projectPlan(project, image: image, input: input)
        case let .image(name, environment):
            var session = try input.options.workspaceSession(lowerDirs: input.lowerDirs, imageEnvironment: environment, command: input.command,
                                                             defaultTerminal: input.defaultTerminal, host: input.host.environment)
            session.user = try user(input)
            try input.options.applyDevices(to: &session, registry: CDIRegistry.host)
            return SessionPlan(kind: .image, image: name, spec: session.spec(for: input.host.identity))
        case .rootfs:
            var session = try input.options.workspaceSession(lowerDirs: input.lowerDirs, imageEnvironment: [], command: input.command,
                                                             defaultTerminal: input.defaultTerminal, host: input.host.environment)
            session.user = try user(input)
            try input.options.applyDevices(to: &session, registry: CDIRegistry.host)
            return SessionPlan(kind: .rootfs, image: "", spec: session.spec(for: input.host.identity))
        }
    }

    /// The task `devenv run NAME` names, checked before anything is built; nil without a name.
    public static func task(named name: String?, arguments: [String], in project: ProjectSource) throws -> SessionTask? {
        guard let name else { return nil }
        guard case let .manifest(manifestProject) = project else { throw KitError.noTasks(project: "devcontainer.json") }
        guard let found = manifestProject.manifest.task(named: name) else {
            throw KitError.noSuchTask(name: name, project: manifestProject.displayPath, available: manifestProject.manifest.tasks.map(\.name))
        }
        return SessionTask(task: found, arguments: arguments)
    }

    // MARK: Projects

    /// The project's session, with the host's dotfiles and the persistent home where `[shell]` asks.
    static func projectPlan(_ project: ProjectSource, image: StoredImage, input: Input) throws -> SessionPlan {
        try checkProjectOptions(input.options)
        let shell = try ProjectShell(project, image: image, host: input.host.environment).mounted(at: input.options.mountTarget)
        let dotfiles = try ProjectDotfiles.resolve(input.options.dotfiles == false ? [] : shell.dotfiles, home: input.host.home, manifest: shell.manifestPath)
        var session = try workspace(shell, input: input)
        session.homeFiles = dotfiles.files
        var home = PersistentHome.Resolved()
        if shell.home == .persistent, let homes = input.persistentHomes {
            let identity = input.host.identity
            home = try PersistentHome.prepare(homes: homes, user: session.user ?? session.containerUser(host: identity, mapping: identity.idMapping))
            session.persistentHome = home.directory
        }
        return SessionPlan(kind: project.kind, image: image.name, spec: session.spec(for: input.host.identity), warnings: dotfiles.warnings + home.warnings,
                           storePaths: home.directory.map { [$0] } ?? [])
    }

    /// The `run`/`shell` options that mean nothing in a project, rejected before anything is
    /// built: the project's working tree is what a project session mounts. (`--hostname` and
    /// `--mount-target` apply to projects as to images.)
    public static func checkProjectOptions(_ options: SessionOptions) throws {
        if options.mountDirectory != nil {
            throw KitError.notInProject(option: "--mount-dir", reason: "a project session mounts the project's own directory; add other host directories to [shell] mounts, or use --image or --rootfs")
        }
    }

    /// A project session: the working tree at the project's mount point, the current
    /// subdirectory (or the project's directory) to start in, the project's environment,
    /// then the task's, then `--env-file`'s, then `-e`; the task's or the given command, else the project's shell.
    static func workspace(_ shell: ProjectShell, input: Input) throws -> WorkspaceSession {
        let options = input.options
        var command = input.command
        var workdir = options.workdir ?? workingDirectory(shell, currentDirectory: input.host.currentDirectory)
        var environment = shell.environment
        var files: [GeneratedFile] = []
        if options.gitIdentity ?? shell.gitIdentity {
            files.append(GitIdentityConfig.file(identity: input.host.git, workingTree: shell.mountPoint))
            // First: the project's env and `-e` may point git elsewhere.
            environment.insert("GIT_CONFIG_GLOBAL=" + GitIdentityConfig.containerPath, at: 0)
        }
        if let chosen = input.task {
            command = taskCommand(chosen.task.command.value, arguments: chosen.arguments)
            // The manifest admits only absolute task directories.
            if let taskDirectory = chosen.task.workdir?.value, options.workdir == nil { workdir = taskDirectory }
            environment += ProjectShell.expanding(chosen.task.env, over: ProjectShell.expansionBase(shell.imageEnvironment) + environment)
        }
        command = startCommands(shell.startCommands, then: command)
        if command == nil, let preferred = shell.shell { command = [preferred] }
        environment += try options.fileEnvironment(host: input.host.environment) + options.resolvedEnvironment(host: input.host.environment)
        let terminal = options.tty ?? input.defaultTerminal
        let volumes = try self.volumes(shell, store: input.store)
        var session = WorkspaceSession(
            lowerDirs: input.lowerDirs, imageEnvironment: shell.imageEnvironment, command: command,
            mountDirectory: shell.root, mountTarget: shell.mountPoint,
            mounts: try mounts(shell.mounts, home: input.host.home) + volumes.mounts + options.volumeMounts(base: shell.root, home: input.host.home), files: files,
            workingDirectory: workdir, environment: environment,
            sshAgentSocket: (options.sshAgent ?? shell.sshAgent) ? SSHAgentForwarding.hostSocket(environment: input.host.environment) : nil,
            network: options.network ?? shell.network.flatMap { NetworkMode(rawValue: $0.rawValue) } ?? .host,
            terminal: terminal, terminalType: input.host.environment["TERM"], hostname: options.hostname ?? hostname(Project.name(root: shell.root)),
            seccomp: input.seccomp, limits: try options.limits(over: shell.limits))
        session.user = try user(input) ?? imageNamedHostUser(session, input: input)
        // A volume made for this session is its user's, as a devcontainer's `remoteUser`
        // expects of its own volume (Docker gives a new volume the image directory's owner).
        let identity = input.host.identity
        let owner = session.user ?? session.containerUser(host: identity, mapping: identity.idMapping)
        for index in session.mounts.indices where owner.uid != 0 && volumes.created.contains(session.mounts[index].source) {
            session.mounts[index].sourceOwner = MountOwner(uid: owner.uid, gid: owner.gid)
        }
        Self.pinInTree(&session.mounts, root: shell.root)
        var deviceOptions = options
        deviceOptions.devices = shell.devices + options.devices
        try deviceOptions.applyDevices(to: &session, registry: CDIRegistry.host)
        return session
    }

    /// The host user's container ids under the name and home the image gives them, when it
    /// has an account for them (rootless, a devcontainer's remote user takes the host user's
    /// uid): `$HOME` is then that account's, as podman's keep-id does. Nil leaves the
    /// session's own choice (the host user's name, `/home/NAME`).
    static func imageNamedHostUser(_ session: WorkspaceSession, input: Input) -> ContainerUser? {
        let identity = input.host.identity
        let user = session.containerUser(host: identity, mapping: identity.idMapping)
        guard user.uid != 0, let account = ImageAccounts.account(uid: user.uid, lowerDirs: input.lowerDirs),
              WorkspaceSession.safeName(account.name) == account.name, account.home.hasPrefix("/") else { return nil }
        return ContainerUser(uid: user.uid, gid: user.gid, name: account.name, home: account.home)
    }

    /// `-u`, from the image's /etc/passwd and /etc/group as a step's `user` is; nil keeps the
    /// host user's ids.
    static func user(_ input: Input) throws -> ContainerUser? {
        try input.options.user.map { try ImageAccounts.resolve($0, lowerDirs: input.lowerDirs) }
    }

    /// `[shell] mounts` (or devcontainer.json `mounts`) with `~` expanded.
    static func mounts(_ mounts: [Manifest.Mount], home: String?) throws -> [BindMount] {
        try mounts.map { mount in
            let source: String
            switch mount.source {
            case let .absolute(path): source = path
            case let .home(rest):
                guard let home else { throw KitError.noHomeForMount(target: mount.target) }
                source = rest.isEmpty ? home : "\(home)/\(rest)"
            }
            return BindMount(source: source, destination: mount.target, readOnly: mount.readOnly)
        }
    }

    /// devcontainer.json's named volumes: the project's (shared with its services), made on first use.
    /// Binds of working-tree paths, as the paths they really are, pinned: a container that
    /// writes the tree must not turn a checked directory into a symlink to the host between
    /// this plan and the bind (`BindMount.pinned`).
    static func pinInTree(_ mounts: inout [BindMount], root: String) {
        guard let realRoot = HostPath.real(root) else { return }
        for index in mounts.indices {
            guard let real = HostPath.real(mounts[index].source),
                  real == realRoot || real.hasPrefix(realRoot + "/") else { continue }
            mounts[index].source = real
            mounts[index].pinned = true
        }
    }

    /// `created`: the sources made now, which the session's user is given.
    static func volumes(_ shell: ProjectShell, store: StoreLayout?) throws -> (mounts: [BindMount], created: Set<String>) {
        guard !shell.volumes.isEmpty else { return ([], []) }
        guard let store else {
            throw KitError.sessionMount(where: "mount at \(Printable.escape(shell.volumes[0].target))", problem: "named volumes need the store")
        }
        let services = ProjectServices(layout: store, root: shell.root)
        var created: Set<String> = []
        let mounts = try shell.volumes.map { volume in
            do {
                let isNew = access(services.volumePath(volume.name), F_OK) != 0
                let source = try services.namedVolume(volume.name)
                if isNew { created.insert(source) }
                return BindMount(source: source, destination: volume.target, readOnly: volume.readOnly)
            } catch let problem as ProjectServices.VolumeProblem {
                throw KitError.volume(name: volume.name, problem: problem.description)
            }
        }
        return (mounts, created)
    }

    /// The subdirectory of the project the user is in, at the same place under the mount
    /// point; else the project's working directory.
    static func workingDirectory(_ shell: ProjectShell, currentDirectory: String?) -> String {
        if let currentDirectory, case let current = URL(fileURLWithPath: currentDirectory).standardizedFileURL.path,
           current.hasPrefix(shell.root + "/") {
            return shell.mountPoint + String(current.dropFirst(shell.root.count))
        }
        return shell.workingDirectory
    }

    /// A task's argv; extra arguments become `$1…` of a shell task, or extend an argv task.
    static func taskCommand(_ command: Manifest.Command, arguments: [String]) -> [String] {
        switch command {
        case let .shell(script): return ["/bin/sh", "-c", script] + (arguments.isEmpty ? [] : ["sh"] + arguments)
        case let .argv(argv): return argv + arguments
        }
    }

    /// `command` (nil: an interactive shell) preceded by the start commands; unchanged when
    /// there are none. A failing start command ends the session with its status.
    static func startCommands(_ startCommands: [Manifest.Command], then command: [String]?) -> [String]? {
        guard !startCommands.isEmpty else { return command }
        var script = startCommands.map { start -> String in
            switch start {
            case let .shell(text): return "{ \(text)\n} || exit $?"
            case let .argv(arguments): return arguments.map(RunStep.shellQuote).joined(separator: " ") + " || exit $?"
            }
        }.joined(separator: "\n")
        script += "\nif [ $# -gt 0 ]; then exec \"$@\"; fi\n"
        script += "for candidate in \"$SHELL\" /bin/bash /bin/sh; do [ -n \"$candidate\" ] && [ -x \"$candidate\" ] && exec \"$candidate\"; done\n"
        script += "echo 'devenv: no shell in the image' >&2; exit 127"
        return ["/bin/sh", "-c", script, "devenv-start"] + (command ?? [])
    }

    /// The project name as a hostname label (at most 63 characters).
    static func hostname(_ name: String) -> String {
        let label = String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-."))
        return label.isEmpty ? "devenv" : label
    }
}

extension ProjectSource {
    var kind: SessionPlan.Kind {
        switch self {
        case .manifest: return .manifest
        case .devContainer: return .devContainer
        }
    }
}
