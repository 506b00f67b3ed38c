import ArgumentParser
import DevenvKit
import DevenvLaunch
import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvSession
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `devenv run` and `devenv shell`: prepares what the session needs (the project's image,
/// built as needed, or the named image; its snapshots, leased), asks `SessionPlanner` what
/// the session is, and runs it.
struct SessionLauncher {
    let options: SessionOptions
    let global: GlobalOptions

    /// In a project (no --image or --rootfs), a task to run instead of a command.
    var task: (name: String, arguments: [String])?

    /// In a project: the running environment to start or join (`--name`), and how.
    var environmentName: String?
    var environmentMode = EnvironmentExecution.Mode.startOrJoin
    /// `shell --detach`: start the environment without a session.
    var detach = false
    /// False for a service's container, which the front end must never replay as a session.
    var recordsWarmStart = true
    /// False for a service's container: `[shell] home = "persistent"` is the developer's.
    var keepsHome = true

    /// What a session needs before it starts: its plan, the lease on the image's snapshots
    /// (which keeps gc away from them while the container runs), and in a project the
    /// environment it starts or joins, the services its task or shell needs started first,
    /// and its warm record, written once those services are held.
    struct Prepared {
        var plan: SessionPlan
        var lease: Lease?
        var environment: (EnvironmentDirectory, EnvironmentRequest)?
        var services: ServiceLauncher?
        var warmRecord: WarmRecording.PendingSession?
    }

    /// Runs the session and exits with the command's status, or with 125/126/127 (and a
    /// message) when devenv cannot start it. A project session runs in the project's running
    /// environment, started as needed.
    func run(command: [String]?, defaultTerminal: Bool) throws {
        try reportingErrors {
            let prepared = try DebugLog.timed("session", "prepare the session") {
                try self.prepare(command: command, defaultTerminal: defaultTerminal)
            }
            let spec = prepared.plan.spec
            Self.logMounts(spec)
            guard let (directory, request) = prepared.environment else {
                throw ExitCode(SessionExecution.run(spec, keeping: prepared.lease))
            }
            // The services the task or shell needs run first; those this session started stop
            // when it ends, unless `devenv up` (or another session) holds them.
            let held = try prepared.services.map { try startServices($0, detached: detach) } ?? []
            if detach {
                let session = try EnvironmentStarter.start(spec, in: directory, request: request, lease: prepared.lease)
                Terminal.note(session.joined ? "environment '\(request.name)' was already running; it now stays until `devenv stop`"
                                             : "started environment '\(request.name)'; it runs until `devenv stop`")
                return
            }
            prepared.warmRecord?.save(services: held.map(WarmRecording.service))
            let status = EnvironmentExecution.run(spec, in: directory, request: request, mode: environmentMode, keeping: prepared.lease)
            ServiceLauncher.leave(held)
            throw ExitCode(status)
        }
    }

    /// Starts what the session needs (`devenv up`'s way when `detached`).
    private func startServices(_ launcher: ServiceLauncher, detached: Bool) throws -> [ServiceLauncher.Entered] {
        try launcher.start(launcher.needed, detached: detached) { entered in
            if entered.outcome == .started { Terminal.note("started service \(UpCommand.line(entered))") }
        }
    }

    func prepare(command: [String]?, defaultTerminal: Bool) throws -> Prepared {
        var host = SessionHost.current()
        if let rootfs = options.rootfs {
            let lowerDirs = [try SessionOptions.absolute(rootfs, what: "--rootfs")]
            return Prepared(plan: try SessionPlanner.plan(.init(target: .rootfs, lowerDirs: lowerDirs, options: options, command: command,
                                                                defaultTerminal: defaultTerminal, host: host)))
        }
        if let name = options.image {
            let engine = try global.engine()
            let image = try engine.resolve(try Reference(parsing: name))
            let mounted = try engine.store.mount(image)
            let plan = try SessionPlanner.plan(.init(target: .image(name: image.name, environment: image.config.config?.env ?? []),
                                                     lowerDirs: mounted.lowerDirs, options: options, command: command,
                                                     defaultTerminal: defaultTerminal, host: host))
            return Prepared(plan: plan, lease: mounted.lease)
        }
        let current = try HostPath.currentDirectory()
        host.currentDirectory = current
        let project = try DebugLog.timed("session", "find the project") { try ProjectLocator.load(from: current) }
        // What the command line asks of the project is checked before the store is opened.
        try SessionPlanner.checkProjectOptions(options)
        let chosen = try SessionPlanner.task(named: task?.name, arguments: task?.arguments ?? [], in: project)
        let engine = try global.engine()
        var services: ServiceLauncher?
        if case let .manifest(manifestProject) = project,
           case let needed = (chosen?.task.services ?? manifestProject.manifest.shell.services).map(\.value), !needed.isEmpty {
            services = ServiceLauncher(global: global, project: manifestProject, engine: engine, needed: needed)
        }
        let built = try DebugLog.timed("session", "build the environment") { try build(project, engine: engine) }
        let mounted = try DebugLog.timed("session", "mount \(built.image.name)") { try engine.store.mount(built.image, progress: Unpacking.report) }
        Terminal.endProgress()
        ProgressDisplay.shared.clear()
        let seccomp = try SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory())
        var input = SessionPlanner.Input(target: .project(project, image: built.image), lowerDirs: mounted.lowerDirs, options: options,
                                         command: command, task: chosen, defaultTerminal: defaultTerminal, host: host, seccomp: seccomp,
                                         store: engine.store.layout)
        if keepsHome { input.persistentHomes = ProjectState(layout: engine.store.layout, root: project.root).homesPath }
        var plan = try SessionPlanner.plan(input)
        for warning in plan.warnings { Terminal.note(warning) }
        if plan.spec.network == .private {
            var manifest: Manifest?
            if case let .manifest(manifestProject) = project { manifest = manifestProject.manifest }
            try ProjectNetwork(services: ProjectServices(layout: engine.store.layout, root: project.root)).attach(&plan.spec, manifest: manifest)
        }
        let target = (EnvironmentStarter.directory(layout: engine.store.layout, root: project.root),
                      EnvironmentStarter.request(root: project.root, image: built.image, name: environmentName))
        var prepared = Prepared(plan: plan, lease: mounted.lease, environment: target, services: services)
        // The front end replays only sessions that start or join (never `--detach` or `exec`),
        // and none on a private network, whose holder it does not start; it prints the
        // plan's warnings again as they were printed here.
        if case let .manifest(manifestProject) = project, let outcome = built.outcome, !detach, environmentMode == .startOrJoin, recordsWarmStart,
           plan.spec.network != .private {
            prepared.warmRecord = WarmRecording.PendingSession(project: manifestProject, engine: engine, outcome: outcome, spec: plan.spec,
                                                               storePaths: plan.storePaths, warnings: plan.warnings, environment: target)
        }
        return prepared
    }

    /// The container's filesystem for the debug log (never the environment: `-e` values and
    /// secrets live there).
    static func logMounts(_ spec: ContainerSpec) {
        guard DebugLog.isEnabled else { return }
        DebugLog.log("mounts", "root: overlay of \(spec.rootfs.lowerDirs.count) layer(s): \(spec.rootfs.lowerDirs.joined(separator: ":"))")
        for mount in spec.mounts {
            DebugLog.log("mounts", "bind \(mount.source) -> \(mount.destination)\(mount.readOnly ? " (read-only)" : "")")
        }
    }

    /// The project's environment, built (or fetched) as needed, with the build's progress.
    /// A manifest build's outcome also feeds the warm record.
    private func build(_ project: ProjectSource, engine: Engine) throws -> (image: StoredImage, outcome: ProjectBuild.Outcome?) {
        switch project {
        case let .manifest(manifestProject):
            let outcome = try ProjectBuilding.build(engine: engine, project: manifestProject, options: ProjectBuild.Options(), explain: false)
            return (outcome.image, outcome)
        case let .devContainer(adopted):
            return (try AdoptedBuilding.build(engine: engine, adopted: adopted, noCache: false, explain: false).image, nil)
        }
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
        arguments.display.apply()
        var launcher = SessionLauncher(options: arguments.options.values, global: arguments.global)
        launcher.environmentName = arguments.environment.name
        let command = arguments.command
        if arguments.namesTask {
            launcher.task = (command[0], Array(command.dropFirst()))
            try launcher.run(command: nil, defaultTerminal: SessionOptions.stdioIsTerminal)
        } else {
            try launcher.run(command: command, defaultTerminal: SessionOptions.stdioIsTerminal)
        }
    }
}
