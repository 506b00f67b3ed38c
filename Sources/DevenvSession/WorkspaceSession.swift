import DevenvRuntime
import DevenvSeccomp

/// A developer's container: the working tree mounted read-write, the host user's ids with a
/// name and home, the image's environment with devenv's own on top, the image's shell when
/// no command is given. `spec(for:)` turns it into the `ContainerSpec` the runtime runs. Pure.
/// `devenv run`/`shell` on an image (`SessionOptions.workspaceSession`) and on a project
/// (DevenvKit's `SessionPlanner`) both end here, so they get the same container.
public struct WorkspaceSession: Hashable, Sendable {
    /// Image snapshot directories, topmost first.
    public var lowerDirs: [String]
    /// The image config's `Env` (`KEY=VALUE`).
    public var imageEnvironment: [String]
    /// The command; nil starts the user's shell.
    public var command: [String]?
    /// Host directory bind-mounted read-write at `mountTarget` (the working tree).
    public var mountDirectory: String
    public var mountTarget: String
    /// Further bind mounts (a project's `[shell] mounts`), after the working tree.
    public var mounts: [BindMount]
    /// Files devenv writes into the container, read-only (the session's git configuration).
    public var files: [GeneratedFile]
    /// `--device` nodes.
    public var devices: [DeviceBind]
    /// Container working directory; nil uses `mountTarget`.
    public var workingDirectory: String?
    /// `-e KEY=VALUE` overrides.
    public var environment: [String]
    /// The host's ssh-agent socket, bound at `SSHAgentForwarding.containerSocket` with
    /// `SSH_AUTH_SOCK` set (below `environment`); nil forwards none.
    public var sshAgentSocket: String?
    /// `[shell] dotfiles`, bound below the user's home (after `mounts`).
    public var homeFiles: [HomeFile] = []
    /// `[shell] home = "persistent"`: the host directory bound at the user's home (before
    /// `homeFiles`), given to the user by the container's setup.
    public var persistentHome: String?
    /// `-u`: the user the command runs as; nil: the host user's ids (`containerUser`).
    public var user: ContainerUser?
    public var network: NetworkMode
    public var terminal: Bool
    /// $TERM to pass on when a terminal is used.
    public var terminalType: String?
    public var hostname: String
    public var seccomp: SeccompFilter?
    public var capabilities: CapabilitySet
    public var limits: ResourceLimits

    public static let defaultMountTarget = "/workspace"
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public init(lowerDirs: [String], imageEnvironment: [String] = [], command: [String]?, mountDirectory: String,
                mountTarget: String = WorkspaceSession.defaultMountTarget, mounts: [BindMount] = [], files: [GeneratedFile] = [], devices: [DeviceBind] = [], workingDirectory: String? = nil, environment: [String] = [],
                sshAgentSocket: String? = nil, network: NetworkMode = .host, terminal: Bool = false, terminalType: String? = nil, hostname: String = "devenv",
                seccomp: SeccompFilter? = nil, capabilities: CapabilitySet = .containerDefault, limits: ResourceLimits = .default) {
        self.lowerDirs = lowerDirs
        self.imageEnvironment = imageEnvironment
        self.command = command
        self.mountDirectory = mountDirectory
        self.mountTarget = mountTarget
        self.mounts = mounts
        self.files = files
        self.devices = devices
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.sshAgentSocket = sshAgentSocket
        self.network = network
        self.terminal = terminal
        self.terminalType = terminalType
        self.hostname = hostname
        self.seccomp = seccomp
        self.capabilities = capabilities
        self.limits = limits
    }

    public func spec(for host: HostIdentity) -> ContainerSpec {
        let mapping = host.idMapping
        let user = self.user ?? containerUser(host: host, mapping: mapping)
        let shell = Self.value(of: "SHELL", in: imageEnvironment)
        let args = command ?? [shell ?? "/bin/bash"]
        let fallbacks = command == nil ? ["/bin/bash", "/bin/sh"].filter { $0 != args[0] } : []
        let process = ProcessSpec(args: args, fallbackExecutables: fallbacks, environment: environment(for: user),
                                  workingDirectory: workingDirectory ?? mountTarget, user: user, terminal: terminal)
        return ContainerSpec(rootfs: RootfsSpec(lowerDirs: lowerDirs),
                             mounts: allMounts(user), files: files, devices: devices,
                             process: process, hostname: hostname, network: network, idMapping: mapping,
                             seccomp: seccomp, capabilities: capabilities, limits: limits)
    }

    /// The agent's socket itself, not its directory: the directory (`/tmp/ssh-XXXX`, 0700)
    /// may hold other sockets, and the socket alone is what `SSH_AUTH_SOCK` names.
    var sshAgentMounts: [BindMount] {
        sshAgentSocket.map { [BindMount(source: $0, destination: SSHAgentForwarding.containerSocket)] } ?? []
    }

    /// The working tree, the other mounts, the agent, the dotfiles. The persistent home (a
    /// store directory private to its user, bound as it is: its files keep the ids the
    /// container gives them) goes before the first of them at or below the home, so it hides
    /// none of them (a working tree at `~/src`, a cache mount at `~/.cache/pip`).
    func allMounts(_ user: ContainerUser) -> [BindMount] {
        var all = [BindMount(source: mountDirectory, destination: mountTarget)] + mounts + sshAgentMounts + homeFiles.map { $0.mount(home: user.home) }
        if let persistentHome, let home = try? ContainerPath.normalize(user.home, what: "home directory") {
            let below = all.firstIndex { mount in
                (try? ContainerPath.normalize(mount.destination, what: "mount destination")).map { $0 == home || $0.hasPrefix(home + "/") } ?? false
            }
            all.insert(BindMount(source: persistentHome, destination: user.home, keepsOwners: true, sourceOwner: MountOwner(uid: user.uid, gid: user.gid)),
                       at: below ?? all.count)
        }
        return all
    }

    /// The host user keeps their ids when the mapping has them (rootless with subordinate
    /// ranges); with a single-id mapping, or as root, the command runs as container root.
    public func containerUser(host: HostIdentity, mapping: IDMapping?) -> ContainerUser {
        guard let mapping, let uid = mapping.containerUID(forHost: host.uid), uid != 0,
              let gid = mapping.containerGID(forHost: host.gid) else { return .root }
        let name = Self.safeName(host.name)
        return ContainerUser(uid: uid, gid: gid, name: name, home: "/home/" + name)
    }

    /// Image env, then the session's HOME/USER/.../SSH_AUTH_SOCK, then `-e` overrides (last wins).
    func environment(for user: ContainerUser) -> [String] {
        var entries = imageEnvironment
        if Self.value(of: "PATH", in: entries) == nil { entries.append("PATH=" + Self.defaultPath) }
        entries += ["HOME=" + user.home, "USER=" + user.name, "LOGNAME=" + user.name, "HOSTNAME=" + hostname]
        if terminal { entries.append("TERM=" + (terminalType ?? "xterm")) }
        if sshAgentSocket != nil { entries.append("SSH_AUTH_SOCK=" + SSHAgentForwarding.containerSocket) }
        entries += environment
        var seen = Set<String>()
        var result: [String] = []
        for entry in entries.reversed() {
            let key = String(entry.prefix { $0 != "=" })
            if seen.insert(key).inserted { result.append(entry) }
        }
        return result.reversed()
    }

    public static func value(of key: String, in environment: [String]) -> String? {
        environment.last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// A login name safe for /etc/passwd: letters, digits, '.', '_', '-'; else "user".
    public static func safeName(_ name: String) -> String {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            (scalar.value < 0x80) && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
        }
        return allowed && !name.isEmpty && !name.hasPrefix("-") ? name : "user"
    }
}
