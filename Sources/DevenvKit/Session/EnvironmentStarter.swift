import DevenvRuntime
import DevenvStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A project's running environments (docs/daily-use.md, "Sessions"): one container per
/// project and name that `devenv shell`, `run` and `exec` start or join, recorded under
/// `projects/<id>/environments/`.
public enum EnvironmentStarter {
    /// Where the project at `root` keeps its environment records.
    public static func directory(layout: StoreLayout, root: String) -> EnvironmentDirectory {
        EnvironmentDirectory(path: ProjectState(layout: layout, root: root).environmentsPath)
    }

    /// What a session of the project at `root` on `image` asks for (`name` already valid:
    /// `EnvironmentRequest.validName`).
    public static func request(root: String, image: StoredImage, name: String?, detached: Bool = false) -> EnvironmentRequest {
        EnvironmentRequest(name: name ?? EnvironmentRequest.defaultName, project: root, image: image.name,
                                  imageDigest: image.manifestDescriptor.digest.description, detached: detached)
    }

    /// Starts the environment (or keeps the running one) with no session, detached: it runs
    /// until `devenv stop` (`devenv shell --detach`; `devenv up` adds its services).
    /// `spec` is the project's session plan; only its container part is used.
    @discardableResult
    /// `lease`: the session's lease on the image; the environment's init holds one like it.
    public static func start(_ spec: ContainerSpec, in directory: EnvironmentDirectory, request: EnvironmentRequest, lease: Lease?,
                             runner: ContainerRunner = ContainerRunner()) throws -> EnvironmentSession {
        var detached = request
        detached.detached = true
        detached.settings = EnvironmentSettings(spec)
        let session = try directory.enter(detached, start: {
            let held = try lease.map { try $0.handOff() }
            defer { if let held { close(held.descriptor) } }
            var started = try runner.start(spec, holding: held.map { [$0.descriptor] } ?? [])
            started.heldFiles = held?.files ?? []
            return started
        })
        guard let session else { throw RuntimeError(.setup, "start environment '\(request.name)'") }
        session.leave()
        return session
    }

    /// Every running environment in the store, stale records cleaned on the way.
    public static func running(layout: StoreLayout) -> [EnvironmentRecord] {
        ProjectState.all(in: layout).flatMap { EnvironmentDirectory(path: $0.environmentsPath).running() }
    }
}
