import DevenvBuild
import DevenvRuntime
import DevenvStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs build steps in devenv's own runtime: container root (mapped into the user's
/// subordinate range when rootless), the overlay's upper directory kept for the builder to
/// commit, no working tree mounted, output straight to the user's terminal.
public struct RuntimeStepExecutor: StepExecutor {
    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    public func execute(_ execution: StepExecution) throws -> Int32 {
        let host = HostIdentity.current()
        let user = try ImageAccounts.resolve(execution.user, lowerDirs: execution.lowerDirs)
        let process = ProcessSpec(args: execution.command, environment: execution.environment,
                                  workingDirectory: execution.workingDirectory, user: user, terminal: false)
        let mounts = execution.cacheMounts.map { BindMount(source: $0.hostPath, destination: $0.containerPath) }
        let spec = ContainerSpec(
            rootfs: RootfsSpec(lowerDirs: execution.lowerDirs, upper: .directory(upper: execution.upperDir, work: execution.workDir)),
            mounts: mounts, process: process, hostname: "devenv-build",
            network: execution.network == .none ? .none : .host, idMapping: host.idMapping,
            seccomp: try SeccompFilter.dockerDefault(capabilities: .containerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory()))
        // stdin is not the step's: a build never waits on the terminal.
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let status = try ContainerRunner().run(spec, io: ContainerIO(input: null, output: 2, error: 2))
        return status.shellCode
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
            throw KitError.invalidArgument("user '\(parts[0])' is not in the image's /etc/passwd")
        }
        var gid = account.flatMap { UInt32($0[3]) } ?? uid
        if parts.count == 2 {
            guard let group = UInt32(parts[1]) ?? groups.first(where: { $0[0] == parts[1] }).flatMap({ UInt32($0[2]) }) else {
                throw KitError.invalidArgument("group '\(parts[1])' is not in the image's /etc/group")
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
            var info = stat()
            guard lstat("\(directory)/\(file)", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  let data = FileManager.default.contents(atPath: "\(directory)/\(file)") else { continue }
            return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
                let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                return fields.count >= (file.hasSuffix("passwd") ? 7 : 4) ? fields : nil
            }
        }
        return []
    }
}
