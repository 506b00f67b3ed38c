import DevenvRuntime
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The values of `devenv run`/`devenv shell` options, however they were parsed (ArgumentParser
/// in the full CLI, `QuickCommandLine` in the front end), and the session they describe.
public struct SessionOptions: Equatable, Sendable {
    public static let defaultHostname = "devenv"

    public var image: String?
    public var rootfs: String?
    public var workdir: String?
    public var network: NetworkMode?
    public var environment: [String] = []
    /// `--env-file FILE`, in order (docker's format, `EnvFile`).
    public var envFiles: [String] = []
    /// `-v/--volume SRC:DST[:ro]`, in order (`VolumeOption`).
    public var volumes: [String] = []
    /// `--device HOST[:CONTAINER][:rwm]`, in order (`DeviceOption`).
    public var devices: [String] = []
    /// `-u/--user NAME|UID[:GROUP|GID]`, resolved against the image's accounts by the planner.
    public var user: String?
    /// `--no-ssh-agent` sets false; nil leaves it to the project (on by default).
    public var sshAgent: Bool?
    /// `--no-git-identity` sets false; nil leaves it to the project (on by default).
    public var gitIdentity: Bool?
    /// `--no-dotfiles` sets false; nil leaves it to the project's `[shell] dotfiles`.
    public var dotfiles: Bool?
    public var tty: Bool?
    public var mountDirectory: String?
    public var mountTarget: String?
    /// nil: `defaultHostname`, or the project's name in a project.
    public var hostname: String?
    /// `--memory`, `--pids`, `--cpus`, `--shm-size` as given (parsed by `ResourceLimits`).
    public var memory: String?
    public var pids: String?
    public var cpus: String?
    public var shmSize: String?

    public init() {}

    /// Without --image or --rootfs, run and shell use the project's environment.
    public var projectMode: Bool { image == nil && rootfs == nil }

    /// `-e KEY` passes the host's value (and is dropped when the host has none), like docker.
    public func resolvedEnvironment(host: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        return environment.compactMap { entry in
            if entry.contains("=") { return entry }
            return host[entry].map { "\(entry)=\($0)" }
        }
    }

    /// The `--env-file` entries, in order: they come before `-e`, which overrides them (docker's order).
    public func fileEnvironment(host: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        try envFiles.flatMap { try EnvFile.read(Self.absolute($0, what: "--env-file"), host: host) }
    }

    /// The `-v` binds, sources relative to `base`.
    public func volumeMounts(base: String, home: String?) throws -> [BindMount] {
        try volumes.map { try VolumeOption.mount($0, base: base, home: home) }
    }

    /// `--device` entries applied to `session`: host nodes (`/dev/…`), and CDI names
    /// (`vendor.com/class=name`, from `registry`), whose mounts and environment come too
    /// (the environment below `-e`). `registry` is read only when a CDI name is given.
    public func applyDevices(to session: inout WorkspaceSession, registry: () -> CDIRegistry) throws {
        var cdi: CDIRegistry?
        for device in devices {
            if device.hasPrefix("/") {
                session.devices.append(try DeviceOption.device(device))
                continue
            }
            if cdi == nil { cdi = registry() }
            let resolved = try cdi!.resolve(device)
            session.devices += resolved.devices
            session.mounts += resolved.mounts
            session.environment = resolved.environment + session.environment
        }
    }

    /// `base` with the limits given on the command line.
    public func limits(over base: ResourceLimits = .default) throws -> ResourceLimits {
        try base.overriding(memory: memory, pids: pids, cpus: cpus, shmSize: shmSize)
    }

    /// A session on an image's snapshot directories (or --rootfs), with the working tree mounted.
    public func workspaceSession(lowerDirs: [String], imageEnvironment: [String], command: [String]?, defaultTerminal: Bool,
                                 host: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkspaceSession {
        let mounted = try mountDirectory.map { try Self.absolute($0, what: "--mount-dir") } ?? HostPath.currentDirectory()
        return WorkspaceSession(
            lowerDirs: lowerDirs, imageEnvironment: imageEnvironment, command: command,
            mountDirectory: mounted, mountTarget: mountTarget ?? WorkspaceSession.defaultMountTarget,
            mounts: try volumeMounts(base: mounted, home: try? HostPath.home(environment: host)),
            devices: [], workingDirectory: workdir,
            environment: try fileEnvironment(host: host) + resolvedEnvironment(host: host),
            sshAgentSocket: sshAgent == false ? nil : SSHAgentForwarding.hostSocket(environment: host),
            network: network ?? .host, terminal: tty ?? defaultTerminal,
            terminalType: ProcessInfo.processInfo.environment["TERM"], hostname: hostname ?? Self.defaultHostname,
            seccomp: try SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory()),
            limits: try limits())
    }

    /// A host path from the command line made absolute; an empty one, or a relative one when
    /// the current directory cannot be resolved, is an error (never `/`).
    public static func absolute(_ path: String, what: String) throws -> String {
        do {
            return try HostPath.absolute(path, what: what)
        } catch let error as SystemError {
            throw RuntimeError.invalid("\(what) \(Errno.quote(path)): \(error)")
        }
    }

    public static var stdioIsTerminal: Bool { isatty(0) == 1 && isatty(1) == 1 }
}
