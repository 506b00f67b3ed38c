import DevenvBuild
import DevenvOCI
import DevenvPlan
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The host directories behind a run step's mounts, whichever front end wrote it: one
/// project-private directory per cache id (so steps naming the same cache share it, across
/// stages and builds), and the project directory itself for a project mount.
enum StepMounts {
    static func directories(for step: Step, stateDirectory: String, projectRoot: String) throws -> [StepExecution.CacheMount] {
        guard case let .run(run) = step else { return [] }
        var mounts = try run.cacheMounts.map { try cacheDirectory($0, stateDirectory: stateDirectory) }
        // The step's user writes the project as its owner would (idmapped as root), and what
        // it makes there is the owner's. Rootless the remote user has the owner's uid (`RemoteUserUID`).
        if let target = run.projectMount {
            mounts.append(StepExecution.CacheMount(hostPath: projectRoot, containerPath: target, ownedByStepUser: true))
        }
        return mounts
    }

    private static func cacheDirectory(_ mount: CacheMount, stateDirectory: String) throws -> StepExecution.CacheMount {
        let host = "\(stateDirectory)/cache/\(Digest.sha256(Data(mount.id.utf8)).encoded.prefix(16))"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        if mount.uid != nil || mount.gid != nil, geteuid() == 0 {
            chown(host, mount.uid ?? 0, mount.gid ?? 0)
        }
        if let mode = mount.mode { chmod(host, mode_t(mode)) }
        return StepExecution.CacheMount(hostPath: host, containerPath: mount.target)
    }
}
