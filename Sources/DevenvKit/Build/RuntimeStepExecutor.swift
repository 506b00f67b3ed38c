import DevenvArchive
import DevenvOCI
import DevenvPlan
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
    /// What the steps' secrets and SSH agents are (`StepSecrets`).
    public var secrets: BuildSecrets

    public init(store: ImageStore, secrets: BuildSecrets = BuildSecrets()) {
        self.store = store
        self.secrets = secrets
    }

    public func execute(_ execution: StepExecution) throws -> Int32 {
        // stdin is not the step's: a build never waits on the terminal.
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        // The store budget evicts the cache mounts used least recently.
        for mount in execution.cacheMounts { AccessTimes.touch(mount.hostPath) }
        do {
            var spec = try spec(for: execution)
            let staged = try StepSecrets(execution.secrets, sources: secrets, user: spec.process.user)
            defer { staged.remove() }
            spec.mounts += staged.mounts
            spec.process.environment += staged.environment
            for mount in spec.mounts { DebugLog.log("build", "step mount \(mount.source) -> \(mount.destination)") }
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
        return RuntimeFiles(mountPoints: MountPlan.mountPoints(for: spec) + StepSecrets.targets(execution.secrets), generated: generated)
    }

    /// Rootless, the upper directory holds files of subordinate ids (mode 0600 ones
    /// included) that only the user namespace's root can read, and whose owners only it sees
    /// as the container did: the commit runs there (`NamespaceHelper`).
    public func commit(_ commit: UpperCommit, to output: String, options: LayerWriteOptions) throws -> LayerBlob {
        guard let mapping = HostIdentity.current().idMapping else { return try commit.write(to: output, options: options) }
        return try NamespaceHelper.commit(commit, mapping: mapping, to: output, options: options)
    }

    /// Rootless, for the same reason as `commit`.
    public func split(_ split: UpperSplit) throws -> [UpperSplit.Part]? {
        guard let mapping = HostIdentity.current().idMapping else { return try split.run() }
        return try NamespaceHelper.split(split, mapping: mapping)
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

/// Resolves a step's `user` (`UserSpec`: `uid`, `uid:gid`, `name`, `name:group`, `:group`)
/// against the image's own /etc/passwd and /etc/group, read from the topmost layer that has
/// them, as runc resolves a container's user.
enum ImageAccounts {
    static func resolve(_ text: String?, lowerDirs: [String]) throws -> ContainerUser {
        guard let text, !text.isEmpty else { return .root }
        let spec = UserSpec(text)
        let passwd = AccountFile.passwd(contents(of: "etc/passwd", lowerDirs: lowerDirs))
        let groups = AccountFile.group(contents(of: "etc/group", lowerDirs: lowerDirs))
        switch spec.resolve(passwd: passwd, groups: groups) {
        case let .resolved(user):
            let name = user.account?.name ?? (spec.user.isEmpty ? "root" : spec.user)
            let home = user.account?.home ?? "/"
            return ContainerUser(uid: user.uid, gid: user.gid, name: name, home: home.isEmpty ? "/" : home)
        case let .unknownUser(name):
            throw KitError.unknownAccount(kind: .user, name: name)
        case let .unknownGroup(name):
            throw KitError.unknownAccount(kind: .group, name: name)
        }
    }

    /// The image's own account for `uid`, if it names one.
    static func account(uid: UInt32, lowerDirs: [String]) -> PasswdEntry? {
        AccountFile.passwd(contents(of: "etc/passwd", lowerDirs: lowerDirs)).first { $0.uid == uid }
    }

    private static func contents(of file: String, lowerDirs: [String]) -> String {
        for directory in lowerDirs {
            // Only a regular file: a symlink in an image must not make devenv read the host.
            guard let data = try? FileDescriptor.readRegularFile("\(directory)/\(file)", limit: 16 << 20, flags: O_NOFOLLOW) else { continue }
            return String(decoding: data, as: UTF8.self)
        }
        return ""
    }
}
