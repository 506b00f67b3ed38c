import DevenvArchive
import DevenvOCI
import DevenvBuild
import DevenvRuntime
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs build steps in devenv's own runtime: container root (mapped into the user's
/// subordinate range when rootless), the overlay's upper directory kept for the builder to
/// commit, no working tree mounted, output straight to the user's terminal.
public struct RuntimeStepExecutor: StepExecutor {
    public let store: ImageStore
    /// How long a step may take to stop after devenv is interrupted before it is killed.
    public var interruptGrace: Duration = .milliseconds(500)

    public init(store: ImageStore) { self.store = store }

    public func execute(_ execution: StepExecution) throws -> Int32 {
        // stdin is not the step's: a build never waits on the terminal.
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        do {
            var spec = try spec(for: execution)
            spec.seccomp = try SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory())
            let status = try ContainerRunner().run(spec, io: ContainerIO(input: null, output: 2, error: 2), interrupt: .stop(grace: interruptGrace))
            return status.shellCode
        } catch let error as RuntimeError where error.kind == .interrupted {
            throw StepInterrupted(signal: error.signal ?? SIGINT)
        }
    }

    /// The mount plan's mount points, and the accounts `AccountFiles.ensure` adds to the
    /// image's /etc/passwd and /etc/group when the step's user is not in them.
    public func runtimeFiles(for execution: StepExecution) throws -> RuntimeFiles {
        let spec = try spec(for: execution)
        let view = LayerView(lowerDirs: execution.lowerDirs)
        let existing = { (path: String) in view.readFile(path).map { String(decoding: $0, as: UTF8.self) } }
        var generated: [RuntimeFiles.Generated] = []
        if let passwd = AccountDatabase.passwd(existing: existing("/etc/passwd"), user: spec.process.user) {
            generated.append(RuntimeFiles.Generated(path: "/etc/passwd", contents: Array(passwd.utf8)))
        }
        if let group = AccountDatabase.group(existing: existing("/etc/group"), user: spec.process.user) {
            generated.append(RuntimeFiles.Generated(path: "/etc/group", contents: Array(group.utf8)))
        }
        return RuntimeFiles(mountPoints: MountPlan.mountPoints(for: spec), generated: generated)
    }

    /// Rootless, the upper directory holds files of subordinate ids (mode 0600 ones
    /// included) that only the user namespace's root can read, and whose owners only it sees
    /// as the container did: the commit runs there (`NamespaceHelper`).
    public func commit(_ commit: UpperCommit, to output: String, options: LayerWriteOptions) throws -> LayerBlob {
        let host = HostIdentity.current()
        guard let mapping = host.idMapping else { return try commit.write(to: output, options: options) }
        var commit = commit
        commit.ownership = .inNamespace(mapping: mapping, host: host)
        return try NamespaceHelper.commit(commit, mapping: mapping, to: output, options: options)
    }

    /// The step's container, without its seccomp filter (only running it needs one).
    private func spec(for execution: StepExecution) throws -> ContainerSpec {
        let user = try ImageAccounts.resolve(execution.user, lowerDirs: execution.lowerDirs)
        let process = ProcessSpec(args: execution.command, environment: execution.environment,
                                  workingDirectory: execution.workingDirectory, user: user, terminal: false)
        let stepUser = MountOwner(uid: user.uid, gid: user.gid)
        let mounts = execution.cacheMounts.map { mount in
            BindMount(source: mount.hostPath, destination: mount.containerPath, ownerAppearsAs: mount.ownedByStepUser ? stepUser : nil)
        }
        return ContainerSpec(
            rootfs: RootfsSpec(lowerDirs: execution.lowerDirs, upper: .directory(upper: execution.upperDir, work: execution.workDir)),
            mounts: mounts, process: process, hostname: "devenv-build",
            network: execution.network == .none ? .none : .host, idMapping: HostIdentity.current().idMapping)
    }
}

/// Resolves a step's `user` (`uid`, `uid:gid`, `name` or `name:group`) against the image's
/// own /etc/passwd and /etc/group, read from the topmost layer that has them.
enum ImageAccounts {
    static func resolve(_ text: String?, lowerDirs: [String]) throws -> ContainerUser {
        guard let text, !text.isEmpty else { return .root }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let passwd = entries(file: "etc/passwd", lowerDirs: lowerDirs)
        let groups = entries(file: "etc/group", lowerDirs: lowerDirs)
        let account = passwd.first { $0[0] == parts[0] || $0[2] == parts[0] }
        guard let uid = UInt32(parts[0]) ?? account.flatMap({ UInt32($0[2]) }) else {
            throw KitError.invalidArgument("user \(Printable.quoted(parts[0])) is not in the image's /etc/passwd")
        }
        var gid = account.flatMap { UInt32($0[3]) } ?? uid
        if parts.count == 2 {
            guard let group = UInt32(parts[1]) ?? groups.first(where: { $0[0] == parts[1] }).flatMap({ UInt32($0[2]) }) else {
                throw KitError.invalidArgument("group \(Printable.quoted(parts[1])) is not in the image's /etc/group")
            }
            gid = group
        }
        let name = account?[0] ?? parts[0]
        let home = account.map { $0[5] } ?? "/"
        return ContainerUser(uid: uid, gid: gid, name: name, home: home.isEmpty ? "/" : home)
    }

    /// Colon-separated records with at least 7 fields for passwd (4 for group); others ignored.
    private static func entries(file: String, lowerDirs: [String]) -> [[String]] {
        for directory in lowerDirs {
            // Only a regular file: a symlink in an image must not make devenv read the host.
            guard let data = try? FileDescriptor.readRegularFile("\(directory)/\(file)", limit: 16 << 20, flags: O_NOFOLLOW) else { continue }
            return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
                let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                return fields.count >= (file.hasSuffix("passwd") ? 7 : 4) ? fields : nil
            }
        }
        return []
    }
}
