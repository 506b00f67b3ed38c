import DevenvKit
import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvSession
import DevenvStore
import DevenvSystem
import Foundation

/// Starts a project's services (`devenv up`, and the services a session or task needs): each
/// service's container is planned by `SessionLauncher` as a `devenv run` of its command would
/// be, then started by `ServiceStarter`, which waits until it is ready (docs/services.md).
struct ServiceLauncher {
    let global: GlobalOptions
    let project: Project
    let engine: Engine
    /// What a session needs started (`[shell] services` or its task's); empty for `devenv up`.
    var needed: [String] = []

    var services: ProjectServices { ProjectServices(layout: engine.store.layout, root: project.root) }

    /// The manifest project around the current directory: services live in devenv.toml.
    static func project(command: String) throws -> Project {
        switch try ProjectLocator.load(from: try HostPath.currentDirectory()) {
        case let .manifest(project):
            return project
        case let .devContainer(adopted):
            throw KitError.unsupported(command: command, project: adopted.root, what: "services from devcontainer.json",
                                       hint: "define them as [services.NAME] in .devenv/devenv.toml")
        }
    }

    /// One service entered by this launcher.
    struct Entered {
        var service: Manifest.Service
        var session: EnvironmentSession
        var outcome: ServiceStarter.Outcome
        var seconds: Double
    }

    /// Starts `names` (nil: every service) and what they depend on, dependencies first; each
    /// is ready before the next starts. `detached`: they run until `devenv down`, else while
    /// the returned sessions hold them (`leave`).
    func start(_ names: [String]?, detached: Bool, each: (Entered) -> Void = { _ in }) throws -> [Entered] {
        if let names {
            for name in names where project.manifest.service(named: name) == nil {
                let known = project.manifest.services.map(\.name)
                throw KitError.service(name: name, problem: "\(project.displayPath) defines no such service"
                                       + (known.isEmpty ? "\nhint: add it as [services.\(name)]" : " (it defines: \(known.joined(separator: ", ")))"))
            }
        }
        if project.manifest.shell.network == Manifest.Network.none, !project.manifest.services.isEmpty {
            throw KitError.service(name: names?.first ?? project.manifest.services[0].name,
                                   problem: "services share the host's loopback with the shell, and [shell] network = \"none\" gives the shell a loopback of its own"
                                   + "\nhint: remove network = \"none\" from [shell] to use services")
        }
        var entered: [Entered] = []
        do {
            for service in project.manifest.servicesStartOrder(names) {
                let began = ContinuousClock.now
                let planned = try plan(service)
                let starter = ServiceStarter(services: services)
                let (session, outcome) = try starter.start(service, spec: planned.spec, image: planned.image, lease: planned.lease, detached: detached)
                do {
                    if outcome == .started || session.record.service?.ready == nil {
                        try starter.waitUntilReady(service, record: session.record, readySpec: planned.readySpec)
                    }
                } catch {
                    // One this launcher started goes; one that was running stays for its holders.
                    session.leave(grace: ServiceOptions.stopGrace)
                    if outcome == .started { _ = try? services.directory.stop(service.name, timeout: ServiceOptions.stopGrace) }
                    throw error
                }
                let done = Entered(service: service, session: session, outcome: outcome, seconds: Self.seconds(since: began))
                each(done)
                entered.append(done)
            }
        } catch {
            Self.leave(entered)
            throw error
        }
        return entered
    }

    /// Ends this launcher's hold on the services, last started first: one no session holds
    /// any more and not `up` is stopped.
    static func leave(_ entered: [Entered]) {
        for held in entered.reversed() { held.session.leave(grace: ServiceOptions.stopGrace) }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// The service's container as a `devenv run` of its command would be, with its
    /// environment and volumes; never the user's ssh agent, dotfiles, kept home or terminal.
    private func plan(_ service: Manifest.Service) throws -> (spec: ContainerSpec, readySpec: ContainerSpec?, image: StoredImage, lease: Lease?) {
        var options = SessionOptions()
        options.sshAgent = false
        options.gitIdentity = false
        options.dotfiles = false
        options.tty = false
        options.environment = service.env.map { "\($0.name)=\($0.value)" }
        try services.prepare(for: service.name)
        options.volumes = try services.volumeOptions(service)
        options.workdir = service.workdir?.value
        var command: [String]
        var serviceImage: StoredImage?
        if let reference = service.image {
            let image = try engine.resolve(try Reference(parsing: reference.value))
            serviceImage = image
            let config = image.config.config
            options.image = reference.value
            options.mountDirectory = project.root
            options.user = config?.user.flatMap { $0.isEmpty ? nil : $0 } ?? "0"
            options.workdir = options.workdir ?? config?.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
            command = service.command?.value.arguments ?? ((config?.entrypoint ?? []) + (config?.cmd ?? []))
            guard !command.isEmpty else {
                throw KitError.service(name: service.name, problem: "image \(Printable.quoted(reference.value)) has no entrypoint or command\nhint: give services.\(service.name).command")
            }
        } else {
            command = service.command?.value.arguments ?? []
            options.workdir = options.workdir ?? project.manifest.shell.workingDirectory
        }
        var launcher = SessionLauncher(options: options, global: global)
        launcher.recordsWarmStart = false
        launcher.keepsHome = false
        let prepared = try launcher.prepare(command: command, defaultTerminal: false)
        var plan = prepared.plan
        // An image service is planned like `--image`; on a private network it joins the project's too.
        if project.manifest.shell.network == .private {
            try ProjectNetwork(services: services).attach(&plan.spec, manifest: project.manifest)
        }
        let volumes = services.state.volumesPath + "/"
        for index in plan.spec.mounts.indices where plan.spec.mounts[index].source.hasPrefix(volumes) {
            plan.spec.mounts[index].keepsOwners = true
        }
        let image = try serviceImage ?? engine.resolve(try Reference(parsing: plan.image))
        var readySpec: ContainerSpec?
        if let ready = service.ready {
            readySpec = plan.spec
            readySpec?.process.args = ready.value.arguments
            readySpec?.process.fallbackExecutables = []
        }
        return (plan.spec, readySpec, image, prepared.lease)
    }
}
