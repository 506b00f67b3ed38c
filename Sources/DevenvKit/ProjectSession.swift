import DevenvManifest
import DevenvRuntime
import DevenvStore
import DevenvText
import DevenvSystem
import Foundation

/// How a project's environment is entered: the working tree at the manifest's mount point,
/// the current subdirectory as working directory, `[shell]` settings, and a task's command,
/// directory and environment. Pure: the caller supplies the built image's lower dirs.
public struct ProjectSession {
    public struct Request {
        public var project: Project
        public var image: StoredImage
        public var lowerDirs: [String]
        /// The host directory the command was started in.
        public var currentDirectory: String
        /// nil starts `[shell] shell` (or the image's shell).
        public var command: [String]?
        public var task: Manifest.Task?
        /// Task arguments given after the task name.
        public var taskArguments: [String] = []
        /// `-e` overrides from the command line.
        public var environment: [String] = []
        public var network: NetworkMode?
        public var workdir: String?
        public var terminal: Bool
        public var terminalType: String?
        public var seccomp: SeccompFilter?
        /// The host home directory `~` mounts start from; nil when none is known, which is an
        /// error only for a manifest that mounts from `~`.
        public var home: String?

        public init(project: Project, image: StoredImage, lowerDirs: [String], currentDirectory: String, command: [String]?,
                    terminal: Bool, home: String? = try? HostPath.home(environment: ProcessInfo.processInfo.environment)) {
            self.project = project
            self.image = image
            self.lowerDirs = lowerDirs
            self.currentDirectory = currentDirectory
            self.command = command
            self.terminal = terminal
            self.home = home
        }
    }

    /// `[limits]` over the defaults. The runtime parses the values; a bad one is a manifest
    /// error at its location, like any other (exit 65).
    public static func limits(_ project: Project) throws -> ResourceLimits {
        let written = project.manifest.limits
        var limits = ResourceLimits.default
        var diagnostics: [Diagnostic] = []
        let entries: [(Located<String>?, String, (ResourceLimits, String) throws -> ResourceLimits)] = [
            (written.memory, "memory", { try $0.overriding(memory: $1) }),
            (written.pids, "pids", { try $0.overriding(pids: $1) }),
            (written.cpus, "cpus", { try $0.overriding(cpus: $1) }),
            (written.shmSize, "shm-size", { try $0.overriding(shmSize: $1) }),
        ]
        for (value, key, apply) in entries {
            guard let value else { continue }
            do {
                limits = try apply(limits, value.value)
            } catch {
                diagnostics.append(Diagnostic("[limits] \(key): \(error)", at: value.location, width: value.width))
            }
        }
        guard diagnostics.isEmpty else {
            var error = ManifestError(path: project.displayPath, diagnostics: diagnostics)
            if let source = try? FileDescriptor.readRegularFile(project.manifestPath, limit: Manifest.maxFileSize) { error.attachSource(source) }
            throw error
        }
        return limits
    }

    /// The workspace session and the extra bind mounts from `[shell] mounts`.
    public static func make(_ request: Request) throws -> (session: WorkspaceSession, mounts: [BindMount]) {
        let shell = request.project.manifest.shell
        let mountPoint = shell.mountPoint
        var command = request.command
        var workdir = request.workdir ?? workingDirectory(request, mountPoint: mountPoint)
        var environment = shell.env.map { "\($0.name)=\($0.value)" }
        if let task = request.task {
            command = taskCommand(task.command.value, arguments: request.taskArguments)
            if let taskDirectory = task.workdir?.value, request.workdir == nil {
                workdir = taskDirectory.hasPrefix("/") ? taskDirectory : "\(mountPoint)/\(taskDirectory)"
            }
            environment += task.env.map { "\($0.name)=\($0.value)" }
        }
        if command == nil, let preferred = shell.shell?.value { command = [preferred] }
        environment += request.environment
        let network: NetworkMode = request.network ?? (shell.network == Manifest.Network.none ? .none : .host)
        let session = WorkspaceSession(
            lowerDirs: request.lowerDirs, imageEnvironment: request.image.config.config?.env ?? [], command: command,
            mountDirectory: request.project.root, mountTarget: mountPoint, workingDirectory: workdir,
            environment: environment, network: network, terminal: request.terminal, terminalType: request.terminalType,
            hostname: hostname(request.project.name), seccomp: request.seccomp)
        let mounts = try shell.mounts.map { mount -> BindMount in
            let source: String
            switch mount.source {
            case let .absolute(path): source = path
            case let .home(rest):
                guard let home = request.home else {
                    throw KitError.invalidArgument("[shell] mounts: \(Printable.escape(mount.target)) is mounted from ~, but HOME is not an absolute path and the account database has no home directory for this user")
                }
                source = rest.isEmpty ? home : "\(home)/\(rest)"
            }
            return BindMount(source: source, destination: mount.target, readOnly: mount.readOnly)
        }
        return (session, mounts)
    }

    /// The subdirectory of the project the user is in, at the same place under the mount
    /// point; `[shell] workdir` (default: the mount point) from the project root or outside it.
    static func workingDirectory(_ request: Request, mountPoint: String) -> String {
        let root = request.project.root
        let current = URL(fileURLWithPath: request.currentDirectory).standardizedFileURL.path
        if current.hasPrefix(root + "/") {
            return mountPoint + String(current.dropFirst(root.count))
        }
        return request.project.manifest.shell.workingDirectory
    }

    /// A task's argv; extra arguments become `$1…` of a shell task, or extend an argv task.
    static func taskCommand(_ command: Manifest.Command, arguments: [String]) -> [String] {
        switch command {
        case let .shell(script): return ["/bin/sh", "-c", script] + (arguments.isEmpty ? [] : ["sh"] + arguments)
        case let .argv(argv): return argv + arguments
        }
    }

    /// The project name as a hostname label (at most 63 characters).
    static func hostname(_ name: String) -> String {
        let label = String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-."))
        return label.isEmpty ? "devenv" : label
    }
}
