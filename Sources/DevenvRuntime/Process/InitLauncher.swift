import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A started `devenv __init`: its pid and pidfd, the channel (plan out, pty master back) and
/// the read end of its report pipe.
struct LaunchedInit {
    let pid: pid_t
    let pidfd: FileDescriptor
    let channel: FileDescriptor
    let report: FileDescriptor

    /// Waits for init to exit and returns the raw wait status.
    func wait() throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw SystemError.last("waitpid \(pid)") }
        }
        return status
    }

    func kill() { ProcessControl.signal(pidfd: pidfd.raw, SIGKILL) }

    /// Everything init wrote to the report pipe (it has exited, so nothing more will come).
    func reports() -> [InitReport] {
        FileDescriptor.setNonBlocking(report.raw)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { read(report.raw, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return InitReport.parse(String(decoding: bytes, as: UTF8.self))
    }
}

/// Clones init into new namespaces, writes its id maps, then releases it. A multi-threaded
/// devenv may run nothing but async-signal-safe calls between clone and exec (the C shim), so
/// its init is a fresh `devenv-init` that reads the plan from the channel; a single-threaded
/// devenv (the front end's warm starts) has no other thread whose locks a clone could copy, so
/// its clone becomes init directly, already holding the plan: one exec and one Swift start-up
/// fewer on every container start.
struct InitLauncher {
    let initExecutable: String
    /// Whether the clone continues as init instead of exec'ing `initExecutable`.
    let inProcess: Bool
    let cloneFlags: UInt
    let idMapWriter: IDMapWriter?
    /// Descriptors to become the container's stdin, stdout, stderr; nil keeps devenv's.
    let stdio: (Int32, Int32, Int32)?
    /// Descriptors init gets from `InitPlan.firstPassedFD` on.
    var passedFDs: [Int32] = []
    /// A joining session's cgroups (a running environment's): the child starts inside them
    /// like init (or, where the spawn cannot do that, is moved in before it may start its command).
    var joinCgroups: [String] = []
    /// A private network to create init in (its namespaces stay the caller's to close).
    var network: NetworkJoin?

    static func cloneFlags(network: NetworkMode, userNamespace: Bool) -> UInt {
        var flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP
        if network == .none { flags |= CLONE_NEWNET }
        if userNamespace { flags |= CLONE_NEWUSER }
        return flags
    }

    /// `cgroup`: init starts inside it (or is moved in before it starts the command), so
    /// nothing of the container ever runs outside.
    func launch(_ plan: InitPlan, cgroup: ContainerCgroup? = nil) throws -> LaunchedInit {
        let payload = inProcess && network == nil ? Data() : try JSONEncoder().encode(plan)
        let (parentChannel, childChannel) = try RuntimeError.wrapSetup { try FileDescriptor.socketPair() }
        let (reportRead, reportWrite) = try RuntimeError.wrapSetup { try FileDescriptor.pipe() }
        let placed = [childChannel.raw, reportWrite.raw] + passedFDs
        let entry: ContainerCgroup.Entry?
        do {
            if let cgroup {
                entry = try cgroup.openEntry()
            } else {
                entry = joinCgroups.isEmpty ? nil : try ContainerCgroup.entry(joining: joinCgroups)
            }
        } catch let error as SystemError {
            throw cgroup == nil ? Self.joinRefused(error) : RuntimeError.setup(error)
        }
        defer { entry?.close() }
        // Joining takes an exec'd init: the clone that joins is not the caller.
        let inProcess = inProcess && network == nil
        var clone = ContainerClone(flags: cloneFlags, path: inProcess ? nil : initExecutable, arguments: ["devenv", ContainerInit.argument],
                                   errorDescriptor: reportWrite.raw, errorDescriptorAfterExec: InitPlan.reportFD,
                                   becomeRoot: idMapWriter != nil || network?.user != nil)
        clone.joinUserNamespace = network?.user ?? -1
        clone.joinNetworkNamespace = network?.net ?? -1
        // Only id maps are worth waiting for; without a user namespace init starts at once.
        clone.syncDescriptor = idMapWriter == nil ? -1 : childChannel.raw
        clone.parentDescriptors = [parentChannel.raw, reportRead.raw]
        clone.stdio = stdio.map { ($0.0, $0.1, $0.2) } ?? (-1, -1, -1)
        clone.passed = placed
        clone.cgroupTaskFiles = entry?.taskFiles ?? []
        clone.cgroupDirectory = entry?.directory ?? -1
        let child = clone.spawn()
        let (pid, pidfd, joined) = (child.pid, child.pidfd, child.joinedCgroup)
        if pid == 0 { ContainerInit.run(plan) }
        guard pid > 0 else {
            let code = child.errno
            throw RuntimeError(.setup, InitReport.describe("clone container namespaces", errno: code), errno: code,
                               hint: SetupHint.forClone(errno: code, userNamespace: idMapWriter != nil))
        }
        let launched = LaunchedInit(pid: pid, pidfd: FileDescriptor(adopting: pidfd), channel: parentChannel, report: reportRead)
        // The child has its own copies; the report pipe reaches EOF once init and the command are gone.
        close(childChannel.release())
        close(reportWrite.release())

        do {
            try idMapWriter?.write(pid: pid)
        } catch {
            launched.kill()
            _ = try? launched.wait()
            throw error
        }
        // A send failure means init already died; its report explains why.
        if idMapWriter != nil { _ = send(bytes: [1], on: parentChannel.raw) }
        if !payload.isEmpty { _ = send(bytes: InitPlan.frame(payload.count) + [UInt8](payload), on: parentChannel.raw) }
        // Only without clone3 (v2 before Linux 5.7) is init moved from here. That waits for an
        // RCU grace period (10-40 ms), so it overlaps init's exec and mounts; it is still
        // race-free: init starts the command only at end of input, which follows the move.
        do {
            if !joined { try cgroup?.add(pid) }
            for directory in joinCgroups where !joined {
                do {
                    try ContainerCgroup.write(CgroupWrite(path: directory + "/cgroup.procs", value: "\(pid)"))
                } catch let error as SystemError {
                    throw Self.joinRefused(error)
                }
            }
        } catch let error as SystemError {
            launched.kill()
            _ = try? launched.wait()
            throw RuntimeError.setup(error)
        } catch {
            launched.kill()
            _ = try? launched.wait()
            throw error
        }
        shutdown(parentChannel.raw, Int32(SHUT_WR))
        return launched
    }

    /// A session that may not move itself into the environment's cgroup never starts (it
    /// would run outside its limits); the environment is left as it is.
    static func joinRefused(_ error: SystemError) -> RuntimeError {
        var hint = "the environment and its limits are unchanged"
        if error.errno == EACCES || error.errno == EPERM {
            hint += "; a session joins a limited environment only from where it may enter that cgroup: rootless, from inside the cgroups delegated to you (where the environment was started, e.g. the same systemd user session); or `devenv stop` and start it again from here"
        }
        return RuntimeError(.setup, "join the environment's cgroup: \(error)", errno: error.errno, hint: hint)
    }

    private func send(bytes: [UInt8], on socket: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }
}
