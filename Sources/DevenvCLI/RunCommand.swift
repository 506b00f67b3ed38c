import ArgumentParser
import DevenvKit
import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension NetworkMode: ExpressibleByArgument {}

/// Options `devenv run` and `devenv shell` share.
struct ContainerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Image to run (default: the project's environment, built as needed).", valueName: "NAME"))
    var image: String?

    @Option(help: ArgumentHelp("Run a root filesystem directory instead of an image (read-only lower layer).", valueName: "DIR"))
    var rootfs: String?

    @Option(help: ArgumentHelp("Working directory inside the container (default: the mount target).", valueName: "DIR"))
    var workdir: String?

    @Option(help: "Network: host (default) or none (only loopback).")
    var network: NetworkMode?

    @Option(name: [.customShort("e"), .customLong("env")], help: ArgumentHelp("Set KEY=VALUE, or pass KEY from the host.", valueName: "KEY=VALUE"))
    var environment: [String] = []

    @Flag(inversion: .prefixedNo, help: "Run on a pseudo-terminal (default: when stdin and stdout are terminals).")
    var tty: Bool?

    @Option(name: .customLong("mount-dir"), help: ArgumentHelp("Host directory to mount read-write (default: the current directory).", valueName: "DIR"))
    var mountDirectory: String?

    @Option(name: .customLong("mount-target"), help: ArgumentHelp("Where the directory appears inside (default /workspace, or the manifest's [shell] mount).", valueName: "PATH"))
    var mountTarget: String?

    @Option(help: "Hostname inside the container.")
    var hostname: String = "devenv"

    @Option(help: ArgumentHelp("Memory limit (RAM and swap), e.g. 2g, or max (default: max).", valueName: "SIZE"))
    var memory: String?

    @Option(help: ArgumentHelp("Limit on processes and threads, or max (default: 16384).", valueName: "N"))
    var pids: String?

    @Option(help: ArgumentHelp("CPU limit as a number of CPUs, e.g. 1.5, or max (default: max).", valueName: "N"))
    var cpus: String?

    @Option(name: .customLong("shm-size"), help: ArgumentHelp("Size of /dev/shm (default: 1g).", valueName: "SIZE"))
    var shmSize: String?

    func validate() throws {
        guard image == nil || rootfs == nil else { throw ValidationError("give at most one of --image NAME or --rootfs DIR") }
        if let rootfs, rootfs.isEmpty { throw ValidationError("--rootfs needs a directory") }
        for entry in environment where entry.hasPrefix("=") || entry.isEmpty {
            throw ValidationError("-e \(entry): expected KEY=VALUE or KEY")
        }
    }

    /// `-e KEY` passes the host's value (and is dropped when the host has none), like docker.
    func resolvedEnvironment() -> [String] {
        let host = ProcessInfo.processInfo.environment
        return environment.compactMap { entry in
            if entry.contains("=") { return entry }
            return host[entry].map { "\(entry)=\($0)" }
        }
    }
}

/// Resolves the image and starts a `WorkspaceSession` with the runtime; shared by run and shell.
struct SessionLauncher {
    let options: ContainerOptions
    let global: GlobalOptions

    /// In a project (no --image or --rootfs), a task to run instead of a command.
    var task: (name: String, arguments: [String])?

    /// Runs the session and exits with the command's status, or with 125/126/127 (and a
    /// message) when devenv cannot start it.
    func run(command: [String]?, defaultTerminal: Bool) throws {
        try reportingErrors {
            var lease: Lease?
            var spec: ContainerSpec
            if options.image == nil && options.rootfs == nil {
                spec = try projectSpec(command: command, defaultTerminal: defaultTerminal, lease: &lease)
            } else {
                spec = try makeSession(command: command, defaultTerminal: defaultTerminal, lease: &lease).spec(for: HostIdentity.current())
            }
            let status: ExitStatus
            do {
                status = try ContainerRunner().run(spec)
            } catch let error as RuntimeError {
                Terminal.note("devenv: error: \(error)")
                throw ExitCode(error.exitCode)
            }
            withExtendedLifetime(lease) {}
            throw ExitCode(status.shellCode)
        }
    }

    /// The image's snapshot directories come with a lease that keeps gc away from them while
    /// the container runs.
    func makeSession(command: [String]?, defaultTerminal: Bool, lease: inout Lease?) throws -> WorkspaceSession {
        var lowerDirs: [String]
        var imageEnvironment: [String] = []
        if let rootfs = options.rootfs {
            lowerDirs = [absolute(rootfs)]
        } else {
            let engine = try global.engine()
            let image = try engine.resolve(try Reference(parsing: options.image ?? ""))
            let mounted = try engine.store.mount(image)
            lowerDirs = mounted.lowerDirs
            lease = mounted.lease
            imageEnvironment = image.config.config?.env ?? []
        }
        return WorkspaceSession(
            lowerDirs: lowerDirs, imageEnvironment: imageEnvironment, command: command,
            mountDirectory: absolute(options.mountDirectory ?? FileManager.default.currentDirectoryPath),
            mountTarget: options.mountTarget ?? WorkspaceSession.defaultMountTarget, workingDirectory: options.workdir, environment: options.resolvedEnvironment(),
            network: options.network ?? .host, terminal: options.tty ?? defaultTerminal,
            terminalType: ProcessInfo.processInfo.environment["TERM"], hostname: options.hostname,
            seccomp: try SeccompFilter.dockerDefault(capabilities: .dockerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory()),
            limits: try ResourceLimits.default.overriding(memory: options.memory, pids: options.pids, cpus: options.cpus, shmSize: options.shmSize))
    }

    /// The project's environment: built (or fetched) as needed, then entered with the
    /// manifest's shell settings and the current subdirectory as working directory.
    func projectSpec(command: [String]?, defaultTerminal: Bool, lease: inout Lease?) throws -> ContainerSpec {
        let engine = try global.engine()
        let current = FileManager.default.currentDirectoryPath
        let project: Project
        let image: StoredImage
        var command = command
        switch try ProjectSource.load(from: current) {
        case let .manifest(manifestProject):
            project = manifestProject
            image = try ProjectBuilding.build(engine: engine, project: project, options: ProjectBuild.Options(), explain: false).image
        case let .devContainer(adopted):
            guard task == nil else {
                throw KitError.invalidArgument("devcontainer.json projects have no [tasks]; run a command with: devenv run -- CMD")
            }
            image = try AdoptedBuilding.build(engine: engine, adopted: adopted, noCache: false, explain: false).image
            project = DevContainerSession.project(for: adopted, image: image)
            command = DevContainerSession.command(command, startCommands: adopted.shell(imageEnvironment: image.config.config?.env ?? []).startCommands)
        }
        var selectedTask: DevenvManifest.Manifest.Task?
        if let task {
            guard let found = project.manifest.task(named: task.name) else {
                let names = project.manifest.tasks.map(\.name)
                throw KitError.invalidArgument("no task '\(Printable.escape(task.name))' in \(project.displayPath)"
                    + (names.isEmpty ? "; it defines no [tasks]" : "; tasks: \(names.joined(separator: ", "))")
                    + "\nhint: to run a command, put it after --: devenv run -- \(Printable.escape(task.name))")
            }
            selectedTask = found
        }
        let mounted = try engine.store.mount(image) { index, count, layer in
            Terminal.progress("unpacking layer \(index + 1)/\(count) \(layer.digest.short)")
        }
        Terminal.endProgress()
        lease = mounted.lease
        var request = ProjectSession.Request(project: project, image: image, lowerDirs: mounted.lowerDirs, currentDirectory: current,
                                             command: command, terminal: options.tty ?? defaultTerminal)
        request.task = selectedTask
        request.taskArguments = task?.arguments ?? []
        request.environment = options.resolvedEnvironment()
        request.network = options.network
        request.workdir = options.workdir
        request.terminalType = ProcessInfo.processInfo.environment["TERM"]
        request.seccomp = try SeccompFilter.dockerDefault(capabilities: .dockerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory())
        let (session, mounts) = ProjectSession.make(request)
        var spec = session.spec(for: HostIdentity.current())
        spec.mounts += mounts
        spec.limits = try spec.limits.overriding(memory: options.memory, pids: options.pids, cpus: options.cpus, shmSize: options.shmSize)
        return spec
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static var stdioIsTerminal: Bool { isatty(0) == 1 && isatty(1) == 1 }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command (after --) or a task in the project's environment, or in an image.",
        discussion: "Exits with the command's status (128+N when killed by signal N); 125 when devenv cannot start the container, 126 when the command cannot be executed, 127 when it is not found.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ContainerOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("-- CMD [ARGS…] runs a command; in a project, TASK [ARGS…] runs a task from [tasks].", valueName: "CMD"))
    var command: [String] = []

    /// Whether the words came after `--` (a command) rather than naming a task.
    private var explicitCommand = false

    mutating func validate() throws {
        if command.first == "--" {
            command.removeFirst()
            explicitCommand = true
        }
        guard !command.isEmpty else {
            throw ValidationError("missing command: devenv run -- CMD [ARGS...], devenv run TASK, or devenv run --image NAME -- CMD")
        }
    }

    func run() throws {
        var launcher = SessionLauncher(options: options, global: global)
        let projectMode = options.image == nil && options.rootfs == nil
        if projectMode && !explicitCommand {
            launcher.task = (command[0], Array(command.dropFirst()))
            try launcher.run(command: nil, defaultTerminal: SessionLauncher.stdioIsTerminal)
        } else {
            try launcher.run(command: command, defaultTerminal: SessionLauncher.stdioIsTerminal)
        }
    }
}
