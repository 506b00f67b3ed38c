import DevenvBuild
import DevenvOCI
import DevenvPlan
import DevenvRuntime
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A step's secrets while it runs: each one's content in a file of a private directory on a
/// memory filesystem, bound read-only at its target (mode 0400 and the step user's unless `uid`/`gid`/`mode` say otherwise; see `stage`), or as the
/// variable it names; each SSH agent's socket bound at its target, with SSH_AUTH_SOCK. The
/// directory is removed when the step ends, so nothing of a secret is left on disk, in the
/// upper directory (the bound stubs are empty and `UpperCommit.removeStubs` drops them) or in
/// any record.
struct StepSecrets {
    /// The largest secret devenv reads (BuildKit's limit is 500 KiB).
    static let maxSize = 1 << 20

    private(set) var mounts: [BindMount] = []
    private(set) var environment: [String] = []
    private var directory: String?

    /// Nothing is staged for a step that declares no secret.
    init(_ declared: [SecretMount], sources: BuildSecrets, user: ContainerUser,
         hostEnvironment: [String: String] = ProcessInfo.processInfo.environment) throws {
        do {
            for secret in declared {
                switch secret.kind {
                case .secret: try stage(secret, source: sources.secrets[secret.id], user: user, hostEnvironment: hostEnvironment)
                case .ssh: try bindAgent(secret, socket: sources.agents[secret.id])
                }
            }
        } catch {
            remove()
            throw error
        }
    }

    /// The bind targets a step's secrets would have, for the mount points its layer drops.
    static func targets(_ declared: [SecretMount]) -> [String] { declared.compactMap(\.target) }

    func remove() {
        guard let directory else { return }
        try? DirectoryRemover.remove(directory)
    }

    private mutating func stage(_ secret: SecretMount, source: BuildSecrets.Source?, user: ContainerUser,
                                hostEnvironment: [String: String]) throws {
        guard let content = try Self.content(of: secret, source: source, hostEnvironment: hostEnvironment) else { return }
        if let name = secret.environmentName {
            environment.append(name + "=" + String(decoding: content, as: UTF8.self))
        }
        guard let target = secret.target else { return }
        let path = try privateDirectory(for: secret.id) + "/\(mounts.count)"
        let file = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
        try file.writeAll(content, path: path)
        if fchmod(file.raw, mode_t(secret.mode ?? SecretMount.defaultMode)) != 0 {
            throw KitError.buildSecret(id: secret.id, problem: "\(SystemError("chmod", path: path, errno: errno))")
        }
        // The container's setup gives the file to its owner (the step user unless `uid=`/`gid=`
        // say otherwise): as root a plain chown, rootless one by the user namespace's root,
        // so 0400 is enough for a step user other than root there too.
        mounts.append(BindMount(source: path, destination: target, readOnly: true,
                                sourceOwner: MountOwner(uid: secret.uid ?? user.uid, gid: secret.gid ?? user.gid)))
    }

    /// The secret's bytes; nil when it has no source and is not required.
    private static func content(of secret: SecretMount, source: BuildSecrets.Source?, hostEnvironment: [String: String]) throws -> [UInt8]? {
        switch source {
        case nil:
            guard secret.required else { return nil }
            throw KitError.buildSecret(id: secret.id, problem: "the step requires it; give it with devenv build --secret id=\(secret.id),src=FILE (or env=VAR)")
        case let .environment(name):
            guard let value = hostEnvironment[name] else {
                guard secret.required else { return nil }
                throw KitError.buildSecret(id: secret.id, problem: "the variable \(Printable.escape(name)) is not set")
            }
            return Array(value.utf8)
        case let .file(path):
            do {
                return try FileDescriptor.readRegularFile(path, limit: maxSize, operation: "read the build secret")
            } catch {
                throw KitError.buildSecret(id: secret.id, problem: "\(error)")
            }
        }
    }

    private mutating func bindAgent(_ secret: SecretMount, socket: String?) throws {
        guard let socket else {
            guard secret.required else { return }
            throw KitError.buildSecret(id: secret.id, problem: "the step requires an SSH agent; give it with devenv build --ssh \(secret.id)[=SOCKET]")
        }
        var info = stat()
        guard lstat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
            throw KitError.buildSecret(id: secret.id, problem: "\(Printable.escape(socket)) is not an SSH agent's socket")
        }
        let target = secret.target ?? SecretMount.defaultAgentTarget(index: 0)
        if !environment.contains(where: { $0.hasPrefix("SSH_AUTH_SOCK=") }) { environment.append("SSH_AUTH_SOCK=" + target) }
        mounts.append(BindMount(source: socket, destination: target))
    }

    /// mode 0700 on /dev/shm (memory, never written to disk), else the temporary directory.
    private mutating func privateDirectory(for id: String) throws -> String {
        if let directory { return directory }
        let base = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        var template = Array("\(base)/devenv-secrets.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw KitError.buildSecret(id: id, problem: "\(SystemError("create a private directory", path: base, errno: errno))")
        }
        let path = String(cString: made)
        directory = path
        return path
    }
}
