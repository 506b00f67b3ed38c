import DevenvManifest
import DevenvOCI
import DevenvRuntime
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A project's private network (`[shell] network = "private"`, docs/services.md): one
/// `NetworkHolder` per project, recorded in `projects/<id>/services/network.json` with its
/// lifeline socket `network.sock`, started by the first session or service that needs it and
/// shared by all of them. It publishes every service's ports on the host's loopback and exits
/// once the last of its containers is gone.
public struct ProjectNetwork {
    public let services: ProjectServices

    public init(services: ProjectServices) {
        self.services = services
    }

    struct Record: Codable {
        var network: PrivateNetwork
        var ports: [Int]
    }

    var recordPath: String { "\(services.state.servicesPath)/network.json" }
    var lifelinePath: String { "\(services.state.servicesPath)/network.sock" }

    /// The published ports: every service's, in manifest order.
    public static func ports(of manifest: Manifest) -> [(service: String, port: Int)] {
        manifest.services.flatMap { service in service.ports.map { (service.name, $0.value) } }
    }

    /// The running holder, or a new one publishing `ports`. One that publishes other ports
    /// (the manifest changed while the project ran) is refused, never mixed with a new one.
    public func holder(publishing ports: [(service: String, port: Int)], mapping: IDMapping?) throws -> PrivateNetwork {
        let what = ports.first?.service ?? "network"
        try services.prepare(for: what)
        let lock = try FileLock(path: "\(services.state.servicesPath)/network.lock")
        defer { lock.unlock() }
        let numbers = ports.map(\.port)
        if let record = read(), record.network.holder.isAlive {
            guard record.ports == numbers else {
                throw KitError.service(name: what, problem: "the project's private network publishes port(s) \(Self.list(record.ports)), "
                                       + "and the manifest now says \(Self.list(numbers))"
                                       + "\nhint: `devenv down` and `devenv stop` end what runs on the old network; the next start publishes the new ports")
            }
            return record.network
        }
        for (service, port) in ports where !LoopbackSocket.isFree(port) {
            throw KitError.service(name: service, problem: "port \(port) on 127.0.0.1 is already in use by another program, so the private network cannot publish it"
                                   + "\nhint: stop that program, or change services.\(service).ports and the port the service listens on")
        }
        let network = try NetworkHolder.start(ports: numbers, mapping: mapping, executable: ContainerRunner.defaultInitExecutable(),
                                              lifeline: lifelinePath)
        do {
            try AtomicFile.write(try JSONEncoder().encode(Record(network: network, ports: numbers)), to: recordPath, mode: 0o600)
        } catch {
            kill(network.holder.pid, SIGKILL)
            throw KitError.service(name: what, problem: "record the private network in \(recordPath): \(error)")
        }
        return network
    }

    /// Puts `spec` on the project's private network, starting its holder as needed. Root's
    /// holder has no user namespace (root may enter any network namespace); rootless, the
    /// holder's user namespace has the spec's mapping, which every container of the user shares.
    public func attach(_ spec: inout ContainerSpec, manifest: Manifest?) throws {
        spec.network = .private
        guard spec.privateNetwork == nil else { return }
        spec.privateNetwork = try holder(publishing: manifest.map(Self.ports) ?? [], mapping: geteuid() == 0 ? nil : spec.idMapping)
    }

    /// The live holder, if any (`devenv ps`, tests).
    public func running() -> PrivateNetwork? {
        read().map(\.network).flatMap { $0.holder.isAlive ? $0 : nil }
    }

    private func read() -> Record? {
        guard let bytes = try? FileDescriptor.readRegularFile(recordPath, limit: 1 << 16, flags: O_NOFOLLOW) else { return nil }
        return try? JSONDecoder().decode(Record.self, from: Data(bytes))
    }

    private static func list(_ ports: [Int]) -> String {
        ports.isEmpty ? "none" : ports.map(String.init).joined(separator: ", ")
    }
}
