import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Rootful containers have no user namespace, so container root is host root: a setuid-root
/// binary it leaves in the working tree would give its unprivileged owner root on the host.
/// Every bind mount of a source a non-root user owns is therefore idmapped (Linux 5.12) so
/// that root acts as that owner there (`IDMapping.rootActsAs`): what it creates is the owner's
/// on disk, setuid bits included. A mount whose owner appears as another container user
/// (`BindMount.ownerAppearsAs`) maps that user instead (`IDMapping.idActsAs`). Init gets
/// one user namespace per distinct map, passed as descriptors from `firstDescriptor` on.
struct OwnerMappedMounts {
    /// In the message of a failed idmapped bind, so `SetupHint` can explain it.
    static let stage = "with container root as its owner"
    /// place_fds in the shim moves at most 16 descriptors.
    static let maximumOwners = 8

    /// The user namespaces, open in devenv.
    private(set) var descriptors: [Int32] = []
    /// Mount source -> descriptor number inside init.
    private(set) var bySource: [String: Int32] = [:]

    /// Stats each source (following symlinks, as setup's open does); a source that cannot be
    /// stat'ed is left to setup, which names the error.
    static func make(for mounts: [BindMount], firstDescriptor: Int32) throws -> OwnerMappedMounts {
        var result = OwnerMappedMounts()
        var owners: [String: Int32] = [:]
        do {
            for mount in mounts where mount.keepsOwners != true {
                var info = stat()
                // A root-owned source is bound as it is, even for another user: mapping that
                // user to on-disk root would let it make setuid-root files on the host.
                guard stat(mount.source, &info) == 0, info.st_uid != 0 else { continue }
                let user = mount.ownerAppearsAs ?? MountOwner(uid: 0, gid: 0)
                if user.uid == info.st_uid && user.gid == info.st_gid { continue }
                let key = "\(info.st_uid):\(info.st_gid)>\(user.uid):\(user.gid)"
                if owners[key] == nil {
                    guard result.descriptors.count < maximumOwners else {
                        throw RuntimeError.invalid("mounts: sources with more than \(maximumOwners) different owners")
                    }
                    result.descriptors.append(try userNamespace(uid: info.st_uid, gid: info.st_gid, appearingAs: user))
                    owners[key] = firstDescriptor + Int32(result.descriptors.count - 1)
                }
                result.bySource[mount.source] = owners[key]
            }
        } catch {
            result.close()
            throw error
        }
        return result
    }

    private static func userNamespace(uid: UInt32, gid: UInt32, appearingAs user: MountOwner) throws -> Int32 {
        do {
            return try Mount.userNamespace(uidMap: IDMapping.procText(IDMapping.idActsAs(user.uid, owner: uid)),
                                           gidMap: IDMapping.procText(IDMapping.idActsAs(user.gid, owner: gid)),
                                           describe: "create the user namespace mapping container user \(user.uid):\(user.gid) to owner \(uid):\(gid)").release()
        } catch let error as SystemError {
            throw RuntimeError.setup(error)
        }
    }

    func close() {
        for descriptor in descriptors { _ = Glibc.close(descriptor) }
    }
}
