import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The descriptors a container's command uses for stdio when it has no terminal (with one,
/// devenv relays between `input`/`output` and the pty).
public struct ContainerIO: Sendable {
    public var input: Int32
    public var output: Int32
    public var error: Int32

    public init(input: Int32 = 0, output: Int32 = 1, error: Int32 = 2) {
        self.input = input
        self.output = output
        self.error = error
    }

    public static let standard = ContainerIO()
}

/// Starts containers: plan (pure) -> clone -> id maps -> `devenv __init` -> supervise.
public final class ContainerRunner: Sendable {
    /// The executable that becomes the container's init: `devenv-init` next to the running
    /// devenv when installed, else devenv itself (`/proc/self/exe __init`); tests pass the
    /// built binary (there /proc/self/exe is the test runner).
    public let initExecutable: String
    /// An existing directory init mounts its private tmpfs on (only inside the container's
    /// mount namespace; nothing is written to it on the host).
    public let runtimeDirectory: String

    public init(initExecutable: String? = nil, runtimeDirectory: String? = nil) {
        self.initExecutable = initExecutable ?? Self.defaultInitExecutable()
        self.runtimeDirectory = runtimeDirectory ?? Self.defaultRuntimeDirectory()
    }

    /// `devenv-init` beside this executable if it is a regular executable file with the same
    /// owner and not writable by others; else `/proc/self/exe` (which runs `__init`). Both
    /// run the same code: devenv-init links only the runtime, so it starts several times
    /// faster than the whole CLI.
    public static func defaultInitExecutable() -> String {
        guard let executable = RunningExecutable.path else { return "/proc/self/exe" }
        let candidate = PathName.parent(executable) + "/devenv-init"
        var own = stat(), helper = stat()
        guard stat(executable, &own) == 0, stat(candidate, &helper) == 0, (helper.st_mode & S_IFMT) == S_IFREG,
              helper.st_uid == own.st_uid, helper.st_mode & 0o022 == 0, access(candidate, X_OK) == 0 else { return "/proc/self/exe" }
        return candidate
    }

    /// /run/devenv for root, else $XDG_RUNTIME_DIR/devenv, else /tmp/devenv-UID.
    public static func defaultRuntimeDirectory() -> String {
        if geteuid() == 0 { return "/run/devenv" }
        if let base = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], base.hasPrefix("/") {
            var info = stat()
            if stat(base, &info) == 0, info.st_uid == geteuid(), (info.st_mode & S_IFMT) == S_IFDIR { return base + "/devenv" }
        }
        return "/tmp/devenv-\(geteuid())"
    }

    /// Runs the spec's command to completion and returns how it ended. Throws `RuntimeError`
    /// when the container cannot be set up or the command cannot be executed.
    ///
    /// `interrupt` says what SIGINT, SIGTERM and SIGHUP sent to devenv do (see `InterruptPolicy`).
    public func run(_ spec: ContainerSpec, io: ContainerIO = .standard, interrupt: InterruptPolicy = .forward) throws -> ExitStatus {
        guard spec.idMapping != nil || geteuid() == 0 else {
            throw RuntimeError.invalid("running without a user namespace needs root; give the spec an id mapping")
        }
        let writer = spec.idMapping.map(IDMapWriter.current)
        let hosts = spec.hosts ?? NetworkFiles.hosts(hostname: spec.hostname, network: spec.network, hostHosts: FileDescriptor.readSystemText("/etc/hosts"))
        let resolvConf = spec.resolvConf ?? NetworkFiles.resolvConf(network: spec.network, hostResolvConf: FileDescriptor.readSystemText("/etc/resolv.conf"))
        var plan = try InitPlan.make(spec, scratch: runtimeDirectory, resolvConf: resolvConf, hosts: hosts,
                                     setgroupsAllowed: writer?.setgroupsAllowed ?? true)
        try prepareRuntimeDirectory()
        // Declared before init's kill so that it runs after it: the cgroup goes last.
        let limits = ContainerLimits.prepare(spec.limits, nprocBinds: writer != nil || geteuid() != 0)
        defer { limits.cgroup?.destroy() }
        if let warning = limits.warning { try? FileDescriptor.writeAll(io.error, Array((warning + "\n").utf8)) }
        plan.process?.rlimits = limits.rlimits
        plan.newCgroupNamespace = limits.cgroup != nil
        // Without a user namespace container root is host root; in one, the id map already
        // makes the user's files the user's.
        let owners = writer == nil ? try OwnerMappedMounts.make(for: spec.mounts, firstDescriptor: InitPlan.firstPassedFD) : OwnerMappedMounts()
        defer { owners.close() }
        plan.idmappedSources = owners.bySource

        let relay = try SignalRelay()
        let network = try NetworkJoin.open(for: spec)
        defer { network?.close() }
        var launcher = InitLauncher(initExecutable: initExecutable, inProcess: ProcessControl.threadCount == 1,
                                    cloneFlags: InitLauncher.cloneFlags(network: spec.network, userNamespace: writer != nil && network?.user == nil),
                                    idMapWriter: network?.user == nil ? writer : nil, stdio: spec.process.terminal ? nil : (io.input, io.output, io.error),
                                    passedFDs: owners.descriptors)
        launcher.network = network
        let launched = try launcher.launch(plan, cgroup: limits.cgroup)
        defer { launched.kill() }

        var interruption: Int32?
        if spec.process.terminal, let master = try? receiveTerminal(launched) {
            let session = TerminalSession(master: master, io: io)
            session.relay(until: launched, signals: relay)
        } else {
            interruption = ContainerSupervisor(launched: launched, relay: relay, policy: interrupt).forwardSignalsUntilExit()
        }
        let status = try launched.wait()
        if let interruption { throw RuntimeError.interrupted(interruption) }
        return try Self.outcome(waitStatus: status, reports: launched.reports())
    }

    /// Doctor's probe: performs only `operations` (no command) in namespaces like a container's.
    func probe(_ operations: [MountOperation], userNamespace: Bool) throws {
        let mapping = userNamespace ? IDMapping.single(uid: getuid(), gid: getgid()) : nil
        let writer = mapping.map(IDMapWriter.current)
        let plan = InitPlan(mounts: MountPlan(operations: operations, rootfs: runtimeDirectory), hostname: nil, loopbackUp: false,
                            process: nil, setgroupsAllowed: writer?.setgroupsAllowed ?? true)
        try prepareRuntimeDirectory()
        let launcher = InitLauncher(initExecutable: initExecutable, inProcess: ProcessControl.threadCount == 1,
                                    cloneFlags: InitLauncher.cloneFlags(network: .host, userNamespace: userNamespace),
                                    idMapWriter: writer, stdio: nil)
        let launched = try launcher.launch(plan)
        let status = try launched.wait()
        _ = try Self.outcome(waitStatus: status, reports: launched.reports())
    }

    func receiveTerminal(_ launched: LaunchedInit) throws -> FileDescriptor {
        let master = FileDescriptor.receive(over: launched.channel.raw)
        guard master >= 0 else { throw SystemError.last("receive pty") }
        return FileDescriptor(adopting: master)
    }

    /// Creates the runtime directory (0700) and checks that it is a real directory of ours, so
    /// a planted symlink in /tmp cannot redirect the mount point.
    func prepareRuntimeDirectory() throws {
        if mkdir(runtimeDirectory, 0o700) != 0 && errno != EEXIST {
            throw RuntimeError.setup(SystemError.last("mkdir", path: runtimeDirectory))
        }
        var info = stat()
        guard lstat(runtimeDirectory, &info) == 0 else { throw RuntimeError.setup(SystemError.last("stat", path: runtimeDirectory)) }
        guard (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid() else {
            throw RuntimeError(.setup, "runtime directory \(Errno.quote(runtimeDirectory)) is not a directory owned by uid \(geteuid())",
                               hint: "remove it or set XDG_RUNTIME_DIR")
        }
    }

    /// Turns init's wait status and reports into the command's status or an error (pure).
    static func outcome(waitStatus: Int32, reports: [InitReport]) throws -> ExitStatus {
        for report in reports {
            switch report {
            case .setup(let text):
                let code = InitReport.errno(in: text)
                throw RuntimeError(.setup, text, errno: code, hint: SetupHint.forSetup(text, errno: code))
            case .exec(let text):
                let code = InitReport.errno(in: text)
                throw RuntimeError(code == ENOENT ? .commandNotFound : .commandNotExecutable, text, errno: code)
            case .signal(let number):
                return .signaled(number)
            }
        }
        return ExitStatus(waitStatus: waitStatus)
    }
}

/// What SIGINT, SIGTERM or SIGHUP sent to devenv do while a container runs without a terminal.
public enum InterruptPolicy: Sendable, Equatable {
    /// Forwarded to the command like every other signal; the command decides (`devenv run`).
    case forward
    /// Forwarded, and the whole container is killed if it still runs `grace` seconds later;
    /// `run` then throws `RuntimeError.interrupted`. For build steps: a shell waiting for its
    /// child does not stop on a forwarded SIGINT (only a terminal signals the whole process
    /// group), and an interrupted build must stop at once.
    case stop(grace: Duration)

    static let stopping: Set<Int32> = [SIGINT, SIGTERM, SIGHUP]
}

/// Without a terminal devenv only waits, forwarding the signals it receives to init.
struct ContainerSupervisor {
    let launched: LaunchedInit
    let relay: SignalRelay
    var policy: InterruptPolicy = .forward

    /// Returns the signal that made devenv stop the container, if any (`.stop` only).
    func forwardSignalsUntilExit() -> Int32? {
        var descriptors = [pollfd(fd: launched.pidfd.raw, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: relay.readEnd, events: Int16(POLLIN), revents: 0)]
        var interruption: Int32?
        var deadline: ContinuousClock.Instant?
        while true {
            let timeout = deadline.map { Self.milliseconds(until: $0) } ?? -1
            if poll(&descriptors, 2, timeout) < 0 { continue }
            for signal in relay.drain() {
                ProcessControl.signal(pidfd: launched.pidfd.raw, signal)
                if case let .stop(grace) = policy, interruption == nil, InterruptPolicy.stopping.contains(signal) {
                    interruption = signal
                    deadline = .now + grace
                }
            }
            if descriptors[0].revents != 0 { return interruption }
            if let deadline, Self.milliseconds(until: deadline) == 0 {
                launched.kill()
                return interruption
            }
        }
    }

    /// poll's timeout: what is left until `deadline`, rounded up, 0 once it has passed.
    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        return Int32(min(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1, 60_000))
    }
}
