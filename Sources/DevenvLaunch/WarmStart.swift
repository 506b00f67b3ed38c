import DevenvRuntime
import DevenvStore
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A project `run`/`shell`/`build` that a current warm record answers: the same container
/// the full CLI would start, or the same line a build with nothing to do prints. Its
/// initializer fails, having started nothing, whenever the record is missing or anything it
/// depends on moved; devenv-core then runs and writes a new one.
struct WarmStart {
    enum Action {
        case session(ContainerSpec, Lease, WarmEnvironment, warnings: [String], services: WarmServiceHold)
        case print(String)
    }

    let action: Action

    init?(arguments: [String]) {
        guard let invocation = WarmInvocation.current(arguments: arguments),
              let record = WarmRecord.load(root: invocation.storeRoot, key: invocation.key), record.isCurrent,
              let store = try? ImageStore(root: invocation.storeRoot, unpacker: CoreOnlyUnpacker()),
              let named = try? store.references.lookup(record.image), named.digest.description == record.manifestDigest
        else { return nil }
        switch record.outcome {
        case let .build(output):
            guard invocation.verb == .build else { return nil }
            action = .print(output)
        case let .session(recorded, host, defaultSeccomp, environment, warnings):
            guard invocation.verb != .build, HostIdentity.current() == host, !record.snapshotKeys.isEmpty,
                  let mounted = try? store.mount(snapshotKeys: record.snapshotKeys, digests: record.leaseDigests,
                                                 stillComplete: { record.snapshotStates.allSatisfy(\.isUnchanged) }),
                  mounted.lowerDirs == recorded.rootfs.lowerDirs
            else { return nil }
            var spec = recorded
            if defaultSeccomp {
                guard let filter = try? SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory())
                else { return nil }
                spec.seccomp = filter
            }
            // Last: it joins the services, which the session then holds.
            guard let services = WarmServiceHold(environment.services, store: store, project: (record.image, record.manifestDigest)) else { return nil }
            action = .session(spec, mounted.lease, environment, warnings: warnings, services: services)
        }
    }

    func run() -> Never {
        switch action {
        case let .session(spec, lease, environment, warnings, services):
            // As the full CLI printed them (escaped again: the record is only a file).
            for warning in warnings { StandardError.line(warning) }
            let status = EnvironmentExecution.run(spec, in: EnvironmentDirectory(path: environment.directory), request: environment.request, keeping: lease)
            services.leave()
            exit(status)
        case let .print(output):
            // As the full CLI's print: a closed stdout loses the line, not the status.
            let standardOutput = FileDescriptor(adopting: 1)
            try? standardOutput.writeAll(Array(output.utf8))
            _ = standardOutput.release()
            exit(0)
        }
    }
}
