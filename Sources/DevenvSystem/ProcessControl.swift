import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// The calls that shape a process before it becomes a container's init or command: prctl,
/// credentials, capabilities, hostname, namespaces, signals, the sealed exec. Each failure
/// names what was being done.
public enum ProcessControl {
    /// Exit status of a cloned child and of `devenv __init` when setup fails before the command runs.
    public static let setupFailedStatus = Int32(DEVENV_INIT_SETUP_FAILED)

    /// Death signal when the parent exits (PR_SET_PDEATHSIG).
    public static func setParentDeathSignal(_ signal: Int32) throws {
        guard devenv_prctl(1, UInt(signal), 0, 0, 0) == 0 else { throw SystemError.last("prctl PR_SET_PDEATHSIG") }
    }

    /// PR_SET_DUMPABLE 0: other processes of the same user cannot ptrace this one or open its
    /// /proc/PID/exe (CVE-2019-5736).
    @discardableResult
    public static func setNotDumpable() -> Bool { devenv_prctl(4, 0, 0, 0, 0) == 0 }

    /// Drops capability `number` from the bounding set (PR_CAPBSET_DROP); `name` is for the message.
    public static func dropBoundingCapability(_ number: Int, name: String) throws {
        guard devenv_prctl(24, UInt(number), 0, 0, 0) == 0 else {
            throw SystemError.last("drop capability \(name) from the bounding set")
        }
    }

    public static func setNoNewPrivileges() throws {
        guard devenv_prctl(38, 1, 0, 0, 0) == 0 else { throw SystemError.last("prctl PR_SET_NO_NEW_PRIVS") }
    }

    public static func setGroups(_ groups: [gid_t]) throws {
        guard groups.withUnsafeBufferPointer({ devenv_setgroups($0.count, $0.baseAddress) }) == 0 else {
            throw SystemError.last("setgroups \(groups)")
        }
    }

    /// Real, effective and saved ids at once.
    public static func setGroupID(_ gid: gid_t) throws {
        guard devenv_setresgid(gid) == 0 else { throw SystemError.last("setresgid \(gid)") }
    }

    public static func setUserID(_ uid: uid_t) throws {
        guard devenv_setresuid(uid) == 0 else { throw SystemError.last("setresuid \(uid)") }
    }

    public static func setCapabilities(effective: UInt64, permitted: UInt64, inheritable: UInt64) throws {
        guard devenv_capset(effective, permitted, inheritable) == 0 else { throw SystemError.last("capset") }
    }

    /// Kernels without ambient capabilities (EINVAL) have none to clear.
    public static func clearAmbientCapabilities() throws {
        guard devenv_clear_ambient_capabilities() == 0 || errno == EINVAL else { throw SystemError.last("clear ambient capabilities") }
    }

    public static func setHostname(_ name: String) throws {
        guard devenv_sethostname(name, name.utf8.count) == 0 else { throw SystemError.last("sethostname", path: name) }
    }

    /// unshare(2) with CLONE_* `flags`; `what` names the namespaces for the message.
    public static func unshare(_ flags: UInt, what: String) throws {
        guard devenv_unshare(Int32(truncatingIfNeeded: flags)) == 0 else { throw SystemError.last("unshare \(what)") }
    }

    /// Whether this process may create a user namespace, tried for real (a child cloned into
    /// one exits at once; under 0.1 ms): 0, or the errno clone(2) gave.
    public static func userNamespaceCreationErrno() -> Int32 { devenv_userns_probe() }

    /// setns(2) into the namespace `descriptor` names; `what` names it for the message. Only a
    /// single-threaded process may enter a user or mount namespace.
    public static func enterNamespace(_ descriptor: Int32, what: String) throws {
        guard devenv_setns(descriptor, 0) == 0 else { throw SystemError.last("enter \(what) namespace") }
    }

    /// A pidfd for `pid` (pidfd_open(2)); nil when no such process exists.
    public static func openPidfd(_ pid: pid_t) -> Int32? {
        let descriptor = devenv_pidfd_open(pid)
        return descriptor >= 0 ? descriptor : nil
    }

    /// Brings up `lo` in this network namespace.
    public static func bringUpLoopback() throws {
        guard devenv_loopback_up() == 0 else { throw SystemError.last("bring up loopback interface lo") }
    }

    /// Threads in this process (from /proc/self/status), or -1.
    public static var threadCount: Int32 { devenv_thread_count() }

    /// Every signal disposition back to SIG_DFL and an empty mask (before exec of the user's command).
    public static func resetSignals() { devenv_signal_defaults() }

    /// Loads the seccomp filter (BPF, 8 bytes per instruction; none when empty) and execve()s
    /// at once: nothing may run in between. Returns only on failure, with the errno.
    public static func execSealed(path: String, arguments: CStringArray, environment: CStringArray, filter: [UInt8]) -> Int32 {
        _ = filter.withUnsafeBytes { bytes in
            devenv_exec_sealed(path, arguments.pointers, environment.pointers, filter.isEmpty ? nil : bytes.baseAddress, UInt16(filter.count / 8))
        }
        return errno
    }

    /// Runs the executable `descriptor` names (execveat with an empty path), which need not be
    /// reachable from the current root. Returns only on failure, with the errno.
    public static func exec(descriptor: Int32, arguments: CStringArray, environment: CStringArray) -> Int32 {
        _ = devenv_exec_descriptor(descriptor, arguments.pointers, environment.pointers)
        return errno
    }

    /// Sends `signal` through a pidfd (no pid reuse race).
    @discardableResult
    public static func signal(pidfd: Int32, _ signal: Int32) -> Bool { devenv_pidfd_send_signal(pidfd, signal) == 0 }
}
