import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The namespaces a container of a private network is created in: its `NetworkHolder`'s
/// network namespace and, rootless, the holder's user namespace, which owns it (a network
/// namespace can only be entered from the user namespace that owns it, so every container of
/// the project shares the holder's, with devenv's one mapping), and the container's connection
/// to the holder's `Lifeline`, which its init keeps.
struct NetworkJoin {
    let user: Int32?
    let net: Int32
    let lifeline: Int32

    /// nil unless the spec asks for a private network.
    static func open(for spec: ContainerSpec) throws -> NetworkJoin? {
        guard spec.network == .private else { return nil }
        guard let network = spec.privateNetwork else {
            throw RuntimeError.invalid("network: a private network needs its holder")
        }
        let holder = network.holder
        let set = try NamespaceSet.open(of: holder)
        var user: Int32?
        var net: Int32?
        for (kind, descriptor) in zip(set.kinds, set.descriptors) {
            switch kind {
            case "user": user = descriptor
            case "net": net = descriptor
            default: _ = Glibc.close(descriptor)
            }
        }
        guard let net else {
            if let user { _ = Glibc.close(user) }
            throw RuntimeError(.setup, "join the project network: its holder (pid \(holder.pid)) shares the host's network namespace")
        }
        let lifeline: Int32
        do {
            lifeline = try Lifeline.connect(to: network.lifeline)
        } catch {
            if let user { _ = Glibc.close(user) }
            _ = Glibc.close(net)
            throw error
        }
        let join = NetworkJoin(user: user, net: net, lifeline: lifeline)
        if user != nil {
            // Init is not given id maps of its own in the holder's user namespace: it must have the spec's.
            guard let mapping = spec.idMapping, Self.maps(of: holder.pid) == Self.normalized(IDMapping.procText(mapping.uids), IDMapping.procText(mapping.gids)) else {
                join.close()
                throw RuntimeError(.setup, "join the project network: its holder (pid \(holder.pid)) maps other ids than this container; stop the project's environments and services (`devenv down`) and start again")
            }
        }
        return join
    }

    func close() {
        if let user { _ = Glibc.close(user) }
        _ = Glibc.close(net)
        _ = Glibc.close(lifeline)
    }

    private static func maps(of pid: Int32) -> String? {
        guard let uids = FileDescriptor.readSystemText("/proc/\(pid)/uid_map"),
              let gids = FileDescriptor.readSystemText("/proc/\(pid)/gid_map") else { return nil }
        return normalized(uids, gids)
    }

    private static func normalized(_ uids: String, _ gids: String) -> String {
        [uids, gids].map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.joined(separator: "|")
    }
}
