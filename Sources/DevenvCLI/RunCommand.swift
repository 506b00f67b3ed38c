import ArgumentParser
import DevenvKit
import DevenvLaunch
import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Resolves the image and starts a `WorkspaceSession` with the runtime; shared by run and shell.
struct SessionLauncher {
    let options: SessionOptions
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
            throw ExitCode(SessionExecution.run(spec, keeping: lease))
        }
    }

    /// The image's snapshot directories come with a lease that keeps gc away from them while
    /// the container runs.
    func makeSession(command: [String]?, defaultTerminal: Bool, lease: inout Lease?) throws -> WorkspaceSession {
        var lowerDirs: [String]
        var imageEnvironment: [String] = []
        if let rootfs = options.rootfs {
            lowerDirs = [try SessionOptions.absolute(rootfs, what: "--rootfs")]
        } else {
            let engine = try global.containerEngine()
            let image = try engine.resolve(try Reference(parsing: options.image ?? ""))
            let mounted = try engine.store.mount(image)
            lowerDirs = mounted.lowerDirs
            lease = mounted.lease
            imageEnvironment = image.config.config?.env ?? []
        }
        return try options.workspaceSession(lowerDirs: lowerDirs, imageEnvironment: imageEnvironment, command: command, defaultTerminal: defaultTerminal)
    }

    /// The project's environment: built (or fetched) as needed, then entered with the
    /// manifest's shell settings and the current subdirectory as working directory.
    func projectSpec(command: [String]?, defaultTerminal: Bool, lease: inout Lease?) throws -> ContainerSpec {
        let engine = try global.containerEngine()
        let current = try HostPath.currentDirectory()
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
        request.seccomp = try SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory())
        let (session, mounts) = try ProjectSession.make(request)
        var spec = session.spec(for: HostIdentity.current())
        spec.mounts += mounts
        spec.limits = try options.limits(over: ProjectSession.limits(project))
        return spec
    }

}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command (after --) or a task in the project's environment, or in an image.",
        discussion: "Exits with the command's status (128+N when killed by signal N); 125 when devenv cannot start the container, 126 when the command cannot be executed, 127 when it is not found.")

    @OptionGroup var arguments: RunArguments

    /// The command words are captured as they are, so help must be picked out of them.
    func validate() throws {
        if !arguments.explicitCommand, let first = arguments.command.first, first == "--help" || first == "-h" {
            throw CleanExit.helpRequest(self)
        }
    }

    func run() throws {
        var launcher = SessionLauncher(options: arguments.options.values, global: arguments.global)
        let command = arguments.command
        if arguments.namesTask {
            launcher.task = (command[0], Array(command.dropFirst()))
            try launcher.run(command: nil, defaultTerminal: SessionOptions.stdioIsTerminal)
        } else {
            try launcher.run(command: command, defaultTerminal: SessionOptions.stdioIsTerminal)
        }
    }
}
