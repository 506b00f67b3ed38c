import DevenvBuild
import DevenvKit
import DevenvLaunch
import DevenvOCI
import DevenvRuntime
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes the warm record of a project invocation the full CLI has just answered, so the
/// front end answers the same invocation itself while nothing it depends on changes
/// (`WarmRecord`, docs/architecture.md "Warm records"). Best effort: a record that cannot
/// be written exactly is removed instead, and the next start takes the full road again.
enum WarmRecording {
    /// `run`/`shell`: the final container spec of a manifest project's session, saved once the
    /// services it needs are held (`save(services:)`), since the record names them.
    /// `storePaths`: directories of the store the spec binds, which must still exist.
    /// `warnings`: what the session printed through `Terminal.note`, replayed as printed.
    struct PendingSession {
        let project: Project
        let engine: Engine
        let outcome: ProjectBuild.Outcome
        let spec: ContainerSpec
        let storePaths: [String]
        let warnings: [String]
        let environment: (EnvironmentDirectory, EnvironmentRequest)

        func save(services: [WarmService]) {
            var stored = spec
            let defaultSeccomp = spec.seccomp != nil && spec.seccomp == (try? SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory()))
            if defaultSeccomp { stored.seccomp = nil }
            let recorded = WarmEnvironment(directory: environment.0.path, request: environment.1, services: services)
            WarmRecording.save(project: project, engine: engine, outcome: outcome,
                               .session(spec: stored, host: HostIdentity.current(), defaultSeccomp: defaultSeccomp, environment: recorded,
                                        warnings: warnings.map(Terminal.safe)),
                               required: storePaths)
        }
    }

    /// A service the session holds, as the front end must find it running to replay the session.
    static func service(_ entered: ServiceLauncher.Entered) -> WarmService {
        WarmService(directory: entered.session.directory.path, name: entered.service.name,
                    fingerprint: entered.session.record.service?.fingerprint ?? "")
    }

    /// `build`: the line it printed (as `Terminal.print` writes it).
    static func build(project: Project, engine: Engine, outcome: ProjectBuild.Outcome, printed line: String) {
        save(project: project, engine: engine, outcome: outcome, .build(output: Printable.terminalSafe(line) + "\n"), required: [])
    }

    private static func save(project: Project, engine: Engine, outcome: ProjectBuild.Outcome, _ result: WarmRecord.Outcome, required extra: [String]) {
        let root = engine.store.layout.root
        guard let invocation = WarmInvocation.current(arguments: Array(CommandLine.arguments.dropFirst())), invocation.storeRoot == root else { return }
        guard case let .built(built) = outcome, let paths = WarmInputs.paths(project: project, directory: invocation.directory),
              let started = processStart()
        else {
            DebugLog.log("warm", "no warm record: this project's inputs cannot all be watched (docs/architecture.md, \"Warm records\")")
            return WarmRecord.remove(root: root, key: invocation.key)
        }
        let watched = paths.map(WatchedPath.init)
        // A file changed since this process started may not be what the build read.
        if let racy = watched.first(where: { $0.state?.isRacy(before: started) ?? false }) {
            DebugLog.log("warm", "no warm record: \(racy.path) changed less than a second before this start")
            return WarmRecord.remove(root: root, key: invocation.key)
        }
        let image = built.image
        let blobs = [image.manifestDescriptor.digest, image.manifest.config.digest] + image.manifest.layers.map(\.digest)
        let required = extra + built.steps.map { "\(root)/buildcache/\($0.key.encoded).json" } + blobs.map { engine.store.content.path(for: $0) }
        // The session mounted them, so they are complete now. Not held to the racy rule: a
        // marker is only ever replaced by a rename, which changes its inode.
        let snapshots = engine.store.snapshots
        let chain = image.config.chainIDs
        let states = chain.flatMap { [WatchedPath(snapshots.markerPath(for: $0)), WatchedPath(snapshots.path(for: $0))] }
        WarmRecord(watched: watched, required: required, image: image.name, manifestDigest: image.manifestDescriptor.digest.description,
                   snapshotKeys: chain.map(SnapshotStore.key), snapshotStates: states, leaseDigests: blobs, outcome: result)
            .save(root: root, key: invocation.key)
    }

    /// When this process started, in nanoseconds since the epoch (the front end's exec keeps
    /// the process): /proc/self/stat's start time, on the boot clock, moved to the wall clock.
    static func processStart() -> Int64? {
        guard let bytes = try? FileDescriptor.readRegularFile("/proc/self/stat", limit: 4096),
              let text = Optional(String(decoding: bytes, as: UTF8.self)), let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may contain spaces: state is field 3, starttime 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Int64(fields[19]) else { return nil }
        let hertz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        var boot = timespec(), wall = timespec()
        clock_gettime(CLOCK_BOOTTIME, &boot)
        clock_gettime(CLOCK_REALTIME, &wall)
        let nanos = { (time: timespec) in Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec) }
        let startedOnBootClock = ticks * (1_000_000_000 / hertz)
        // One tick of slack: the start time is rounded down to a tick.
        return nanos(wall) - (nanos(boot) - startedOnBootClock) - 1_000_000_000 / hertz
    }
}
