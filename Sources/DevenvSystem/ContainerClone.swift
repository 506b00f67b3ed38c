import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// clone(2) of a child in new namespaces, the window up to its exec done in C (only
/// async-signal-safe calls: the parent may have other threads): the child waits for one byte
/// on `syncDescriptor` unless it is -1 (the parent writes the id maps first), optionally
/// becomes uid/gid 0 of its user namespace, arms PDEATHSIG, starts a session, moves `stdio`
/// to 0-2 (-1 keeps one) and `passed` to 3, 4, ... (closing everything else) and execs
/// `path`. Failures before the exec are written to `errorDescriptor` as
/// "setup stage: message (ERRNO)".
public struct ContainerClone {
    public var flags: UInt
    /// nil: the child returns from `spawn` (pid 0) and continues; only for a single-threaded caller.
    public var path: String?
    public var arguments: [String]
    public var environment: [String] = []
    public var syncDescriptor: Int32 = -1
    public var errorDescriptor: Int32
    /// Where the exec'd program finds `errorDescriptor`.
    public var errorDescriptorAfterExec: Int32
    public var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
    public var passed: [Int32] = []
    public var becomeRoot: Bool
    /// cgroup v1: `tasks` files (open for writing) the child writes "0" to, first thing.
    public var cgroupTaskFiles: [Int32] = []
    /// cgroup v2: the directory to clone into (clone3 CLONE_INTO_CGROUP), or -1.
    public var cgroupDirectory: Int32 = -1
    /// The parent's ends of the sync socket and the error pipe, closed in the child first
    /// thing: a parent that dies before the go byte then shows as EOF, never as a wait forever.
    public var parentDescriptors: [Int32] = []
    /// A user and a network namespace (descriptors of `/proc/PID/ns/…`) to create the child
    /// inside, -1 for none: a project network's (`NetworkHolder`). Needs `path`.
    public var joinUserNamespace: Int32 = -1
    public var joinNetworkNamespace: Int32 = -1

    public init(flags: UInt, path: String?, arguments: [String], errorDescriptor: Int32, errorDescriptorAfterExec: Int32, becomeRoot: Bool) {
        self.flags = flags
        self.path = path
        self.arguments = arguments
        self.errorDescriptor = errorDescriptor
        self.errorDescriptorAfterExec = errorDescriptorAfterExec
        self.becomeRoot = becomeRoot
    }

    public struct Child {
        /// 0 in the child (without `path`), else the child's pid; -1 on failure (`errno`).
        public let pid: pid_t
        public let pidfd: Int32
        /// The child started in its cgroup(s); false when clone3 is missing and the caller must move it.
        public let joinedCgroup: Bool
        /// Why the clone failed, captured before anything else can change errno.
        public let errno: Int32
    }

    public func spawn() -> Child {
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment)
        var pidfd: Int32 = -1
        return passed.withUnsafeBufferPointer { fds in
            cgroupTaskFiles.withUnsafeBufferPointer { tasks in
              parentDescriptors.withUnsafeBufferPointer { parents in
                withOptionalCString(path) { path in
                    var spawn = devenv_spawn()
                    spawn.clone_flags = flags
                    spawn.path = path
                    spawn.argv = argv.pointers
                    spawn.envp = envp.pointers
                    spawn.sync_fd = syncDescriptor
                    spawn.error_fd = errorDescriptor
                    spawn.error_fd_after_exec = errorDescriptorAfterExec
                    spawn.stdio = stdio
                    spawn.fds = fds.isEmpty ? nil : fds.baseAddress
                    spawn.nfds = Int32(fds.count)
                    spawn.become_root = becomeRoot ? 1 : 0
                    spawn.cgroup_task_fds = tasks.isEmpty ? nil : tasks.baseAddress
                    spawn.ncgroup_task_fds = Int32(tasks.count)
                    spawn.cgroup_dir_fd = cgroupDirectory
                    spawn.parent_fds = parents.isEmpty ? nil : parents.baseAddress
                    spawn.nparent_fds = Int32(parents.count)
                    spawn.join_user_fd = joinUserNamespace
                    spawn.join_net_fd = joinNetworkNamespace
                    let pid = devenv_spawn_container(&spawn, &pidfd)
                    return Child(pid: pid, pidfd: pidfd, joinedCgroup: spawn.cgroup_joined != 0, errno: pid < 0 ? Glibc.errno : 0)
                }
              }
            }
        }
    }

    private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let string else { return body(nil) }
        return string.withCString(body)
    }
}
