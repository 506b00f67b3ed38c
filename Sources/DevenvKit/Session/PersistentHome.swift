import DevenvManifest
import DevenvRuntime
import DevenvSession
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `[shell] home = "persistent"`: `$HOME` is a directory of the project's state in the store,
/// `projects/<id>/homes/<uid>`, one per container uid (a `-u` user gets its own, never one
/// another uid owns), created by devenv and given to that user by the container's setup.
/// Rootless the host user's container uid is their own, so the files are theirs on the host.
enum PersistentHome {
    struct Resolved: Equatable {
        var directory: String?
        var warnings: [String] = []
    }

    /// The directory for `user`, created when missing; none for a user whose home is `/`
    /// (`-u` with ids the image has no account for): the root is no home to bind over.
    static func prepare(homes: String, user: ContainerUser) throws -> Resolved {
        guard (try? ContainerPath.normalize(user.home, what: "home directory")) != "/" else {
            return Resolved(warnings: ["devenv: warning: [shell] home = \"persistent\": uid \(user.uid) has no home directory in the image (its home is /); $HOME is not kept"])
        }
        let directory = "\(homes)/\(user.uid)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw KitError.persistentHome(problem: "create \(Printable.quoted(directory)): \(error.localizedDescription)")
        }
        var info = stat()
        guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw KitError.persistentHome(problem: "\(Printable.quoted(directory)) is not a directory")
        }
        return Resolved(directory: directory)
    }
}
