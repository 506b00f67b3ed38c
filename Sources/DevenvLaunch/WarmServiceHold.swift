import DevenvRuntime
import DevenvStore

/// The hold a replayed session takes on the services it needs, as the full CLI's session takes
/// it (`ServiceLauncher`): each is joined as a session, so it runs at least until this session
/// ends, and left in reverse order afterwards, the last holder of one that is not `up`
/// stopping it. The front end starts no service: one that is not running as recorded sends the
/// invocation to the full CLI, which starts it and writes a new record.
struct WarmServiceHold {
    private var sessions: [EnvironmentSession] = []

    /// nil, holding nothing, unless every service runs the recorded definition, has passed its
    /// readiness check, and runs the image its name still reaches (`project`: the session's own
    /// image, name and manifest digest, which the record has checked already).
    init?(_ services: [WarmService], store: ImageStore, project: (image: String, digest: String)) {
        for service in services {
            let request = EnvironmentRequest(name: service.name, project: "", image: "", imageDigest: "")
            guard let session = try? EnvironmentDirectory(path: service.directory).enter(request, start: nil) else {
                leave()
                return nil
            }
            sessions.append(session)
            guard Self.runsAsRecorded(session.record, service, store: store, project: project) else {
                leave()
                return nil
            }
        }
    }

    func leave() {
        for session in sessions.reversed() { session.leave(grace: ServiceOptions.stopGrace) }
    }

    private static func runsAsRecorded(_ record: EnvironmentRecord, _ service: WarmService, store: ImageStore,
                                       project: (image: String, digest: String)) -> Bool {
        guard let running = record.service, running.fingerprint == service.fingerprint, running.ready != nil else { return false }
        if record.image == project.image && record.imageDigest == project.digest { return true }
        // A service image pulled again since: the full CLI would start the new one.
        return (try? store.image(record.image))?.manifestDescriptor.digest.description == record.imageDigest
    }
}
