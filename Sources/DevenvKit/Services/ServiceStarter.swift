import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvStore
import DevenvSystem
import DevenvText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts one service in its own container and waits until it is ready (docs/services.md).
/// The spec comes from `SessionPlanner` with the service's command, environment and volumes.
public struct ServiceStarter {
    public let services: ProjectServices
    public var runner = ContainerRunner()

    public init(services: ProjectServices) {
        self.services = services
    }

    public enum Outcome: Equatable, Sendable {
        case started
        /// The same definition was already running.
        case alreadyRunning
    }

    /// What identifies a service's container: its definition as the spec carries it, and its image.
    /// The terminal type is the invoking terminal's, not the service's.
    public static func fingerprint(_ spec: ContainerSpec, image: String) -> String {
        var spec = spec
        spec.process.environment.removeAll { $0.hasPrefix("TERM=") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(spec)) ?? Data()
        return Digest.sha256(data + Data(image.utf8)).description
    }

    /// Starts `service` unless the same definition runs, and enters it as a session: it runs
    /// while a session holds it, or until `devenv down` when `detached` (`devenv up`). One that
    /// runs with another definition (the manifest or the image changed) is stopped first.
    public func start(_ service: Manifest.Service, spec: ContainerSpec, image: StoredImage, lease: Lease?,
                      detached: Bool) throws -> (EnvironmentSession, Outcome) {
        try services.prepare(for: service.name)
        try? services.state.claim(root: services.root)
        let fingerprint = Self.fingerprint(spec, image: image.manifestDescriptor.digest.description)
        if let running = services.running()[service.name], running.service?.fingerprint != fingerprint {
            _ = try services.directory.stop(service.name, timeout: ServiceOptions.stopGrace)
        }
        var request = EnvironmentRequest(name: service.name, project: services.root, image: image.name,
                                         imageDigest: image.manifestDescriptor.digest.description, detached: detached)
        request.settings = EnvironmentSettings(spec)
        request.service = ServiceRecord(fingerprint: fingerprint, ports: service.ports.map(\.value))
        let options = ServiceOptions(name: service.name, restart: Self.restart(service.restart), logDirectory: services.logDirectory)
        let session = try services.directory.enter(request, start: {
            // On a private network the holder has the ports already (and checked them).
            if spec.network != .private { try Self.checkPortsFree(service) }
            let held = try lease.map { try $0.handOff() }
            defer { if let held { close(held.descriptor) } }
            var started = try runner.start(spec, holding: held.map { [$0.descriptor] } ?? [], service: options)
            started.heldFiles = held?.files ?? []
            return started
        })
        guard let session else { throw KitError.service(name: service.name, problem: "its container did not start") }
        return (session, session.joined ? .alreadyRunning : .started)
    }

    static func restart(_ restart: Manifest.Service.Restart) -> ServiceRestart {
        switch restart {
        case .no: .never
        case .onFailure: .onFailure
        case .always: .always
        }
    }

    /// A port some other program listens on would make the service fail later, less clearly.
    static func checkPortsFree(_ service: Manifest.Service) throws {
        for port in service.ports where !LoopbackSocket.isFree(port.value) {
            throw KitError.service(name: service.name, problem: "port \(port.value) on 127.0.0.1 is already in use by another program"
                                   + "\nhint: stop that program, or change services.\(service.name).ports and the port the service listens on")
        }
    }

    /// Waits until the service is ready: its `ready` command exits 0 (run inside its container
    /// as `readySpec` says), else every port accepts a connection, else it is still running a
    /// moment after start. Fails at once when it exits, naming how, with its last log lines.
    public func waitUntilReady(_ service: Manifest.Service, record: EnvironmentRecord, readySpec: ContainerSpec?) throws {
        let deadline = Date().addingTimeInterval(TimeInterval(service.readyTimeout))
        let container = StartedContainer(initProcess: record.initProcess, cgroups: record.cgroups)
        var pause = 0.05
        while true {
            try checkStillRunning(service, record: record)
            if try isReady(service, container: container, readySpec: readySpec) {
                var ready = record
                ready.service?.ready = Date().timeIntervalSince1970
                try? services.directory.update(ready)
                return
            }
            guard Date() < deadline else {
                let restarts = services.state(of: service.name).map { $0.restarts > 0 ? ", started again \($0.restarts) times after it exited (last: \($0.lastExit ?? "?"))" : "" } ?? ""
                throw KitError.service(name: service.name, problem: "not ready after \(service.readyTimeout) s\(restarts)"
                                       + (service.ready != nil ? " (its ready command never exited 0)" : service.ports.isEmpty ? "" : " (nothing accepted connections on port \(service.ports.map { String($0.value) }.joined(separator: ", ")))")
                                       + logExcerpt(service.name) + "\nhint: `devenv logs \(service.name)`; raise services.\(service.name).ready_timeout if it needs longer")
            }
            usleep(useconds_t(pause * 1_000_000))
            pause = min(pause * 1.5, 0.5)
        }
    }

    /// How long a service without `ready` or `ports` must stay up to count as ready.
    static let settleTime = 0.3

    private func isReady(_ service: Manifest.Service, container: StartedContainer, readySpec: ContainerSpec?) throws -> Bool {
        if let readySpec {
            let null = try FileDescriptor.openRaw("/dev/null", O_RDWR)
            defer { close(null) }
            do {
                guard try runner.join(container, spec: readySpec, io: ContainerIO(input: null, output: null, error: null)) == .exited(0) else { return false }
                // On a private network the host reaches the ports once the holder forwards them.
                return readySpec.network != .private || service.ports.allSatisfy { LoopbackSocket.accepts($0.value) }
            } catch let error as RuntimeError where error.kind == .commandNotFound || error.kind == .commandNotExecutable {
                // Waiting would not help: say so now rather than at the timeout.
                throw KitError.service(name: service.name, problem: "its ready command cannot run: \(error.message)"
                                       + "\nhint: install it in the image, or write services.\(service.name).ready as a string for /bin/sh -c")
            } catch {
                return false
            }
        }
        if !service.ports.isEmpty { return service.ports.allSatisfy { LoopbackSocket.accepts($0.value) } }
        // Without a check to run, a service counts as ready once it has stayed up a moment.
        guard let state = services.state(of: service.name), state.phase == .running else { return false }
        return Date().timeIntervalSince1970 - state.since >= Self.settleTime
    }

    private func checkStillRunning(_ service: Manifest.Service, record: EnvironmentRecord) throws {
        let state = services.state(of: service.name)
        // One started again after it exited may still come up (a dependency was slow): the timeout decides.
        guard !record.initProcess.isAlive || state?.phase == .exited || state?.phase == .stopped else { return }
        throw KitError.service(name: service.name, problem: "\(state?.lastExit ?? "exited") before it was ready" + logExcerpt(service.name)
                               + "\nhint: `devenv logs \(service.name)` shows its whole output")
    }

    private func logExcerpt(_ name: String) -> String {
        let lines = services.lastLogLines(name)
        return lines.isEmpty ? "; it printed nothing" : "; its last log lines:\n" + lines.map { "  | " + $0 }.joined(separator: "\n")
    }
}
