import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A container whose init keeps running without a command (`KeeperInit`): what sessions join.
public struct StartedContainer: Sendable {
    public let initProcess: ProcessStamp
    public let cgroups: [String]
    /// Files that belong to init for its whole life (its store lease), for its record.
    public var heldFiles: [String] = []

    public init(initProcess: ProcessStamp, cgroups: [String]) {
        self.initProcess = initProcess
        self.cgroups = cgroups
    }
}

/// A service for `ContainerRunner.start`: its init runs the spec's process and supervises it
/// (`ServiceSupervisor`), with its log and state in `logDirectory` (a host directory).
public struct ServiceOptions: Sendable {
    public var name: String
    public var restart: ServiceRestart
    public var logDirectory: String
    public var logLimit: Int

    /// 4 MiB a file, two files: a service's log never takes more than 8 MiB.
    public static let defaultLogLimit = 4 << 20

    /// How long a service has after SIGTERM before SIGKILL when devenv stops it.
    public static let stopGrace = Duration.seconds(10)

    public init(name: String, restart: ServiceRestart, logDirectory: String, logLimit: Int = Self.defaultLogLimit) {
        self.name = name
        self.restart = restart
        self.logDirectory = logDirectory
        self.logLimit = logLimit
    }
}

extension ContainerRunner {
    /// Starts the spec's container with an init that stays until stopped and runs no command;
    /// returns once its root filesystem is ready. The spec's process says what `join` runs.
    /// `holding`: descriptors init keeps open for its whole life (the store lease on the
    /// image's snapshots, so gc leaves them while the environment runs).
    /// `service`: init runs the spec's process as a supervised service instead of no command.
    public func start(_ spec: ContainerSpec, io: ContainerIO = .standard, holding: [Int32] = [], service: ServiceOptions? = nil) throws -> StartedContainer {
        guard spec.idMapping != nil || geteuid() == 0 else {
            throw RuntimeError.invalid("running without a user namespace needs root; give the spec an id mapping")
        }
        let writer = spec.idMapping.map(IDMapWriter.current)
        let hosts = spec.hosts ?? NetworkFiles.hosts(hostname: spec.hostname, network: spec.network, hostHosts: FileDescriptor.readSystemText("/etc/hosts"))
        let resolvConf = spec.resolvConf ?? NetworkFiles.resolvConf(network: spec.network, hostResolvConf: FileDescriptor.readSystemText("/etc/resolv.conf"))
        var plan = try InitPlan.make(spec, scratch: runtimeDirectory, resolvConf: resolvConf, hosts: hosts,
                                     setgroupsAllowed: writer?.setgroupsAllowed ?? true)
        let logDirectory = try service.map { try FileDescriptor.openRaw($0.logDirectory, O_RDONLY | O_DIRECTORY, operation: "open service log directory") }
        defer { if let logDirectory { close(logDirectory) } }
        let serviceProcess = plan.process
        plan.process = nil
        plan.keep = true
        try prepareRuntimeDirectory()
        let limits = ContainerLimits.prepare(spec.limits, nprocBinds: writer != nil || geteuid() != 0)
        if let service, var process = serviceProcess {
            process.rlimits = limits.rlimits
            let owner = spec.idMapping.flatMap { mapping in
                mapping.containerUID(forHost: geteuid()).flatMap { uid in
                    mapping.containerGID(forHost: getegid()).map { ServiceSupervision.LogOwner(uid: uid, gid: $0) }
                }
            }
            plan.service = ServiceSupervision(name: service.name, process: process, restart: service.restart,
                                              logDirectory: -1, logLimit: service.logLimit, logOwner: owner)
        }
        if let warning = limits.warning { try? FileDescriptor.writeAll(io.error, Array((warning + "\n").utf8)) }
        plan.newCgroupNamespace = limits.cgroup != nil
        let owners = writer == nil ? try OwnerMappedMounts.make(for: spec.mounts, firstDescriptor: InitPlan.firstPassedFD) : OwnerMappedMounts()
        defer { owners.close() }
        plan.idmappedSources = owners.bySource
        let network = try NetworkJoin.open(for: spec)
        defer { network?.close() }
        // Rootless the keeper must be an exec'd image (`KeeperInit.exec`). A single-threaded
        // devenv sets up in its clone and execs a static init afterwards, from inside; else
        // init is exec'd first and reads the plan.
        let keeperImage = geteuid() != 0 && service == nil && network == nil && ProcessControl.threadCount == 1
            ? Self.openStaticExecutable(initExecutable) : nil
        defer { if let keeperImage { close(keeperImage) } }
        // Init keeps its lifeline to the project network for its whole life, like the lease.
        let passed = owners.descriptors + holding + (network.map { [$0.lifeline] } ?? []) + (logDirectory.map { [$0] } ?? [])
            + (keeperImage.map { [$0] } ?? [])
        if logDirectory != nil { plan.service?.logDirectory = InitPlan.firstPassedFD + Int32(passed.count - 1) }
        if keeperImage != nil { plan.keeperExecutable = InitPlan.firstPassedFD + Int32(passed.count - 1) }
        var launcher = InitLauncher(initExecutable: initExecutable,
                                    inProcess: ProcessControl.threadCount == 1 && (geteuid() == 0 || keeperImage != nil),
                                    cloneFlags: InitLauncher.cloneFlags(network: spec.network, userNamespace: writer != nil && network?.user == nil),
                                    idMapWriter: network?.user == nil ? writer : nil, stdio: nil, passedFDs: passed)
        launcher.network = network
        let launched: LaunchedInit
        do {
            launched = try launcher.launch(plan, cgroup: limits.cgroup)
        } catch {
            limits.cgroup?.destroy()
            throw error
        }
        // The keeper closes the channel when its setup is done; a failed init closes it by exiting.
        _ = try? FileDescriptor.readAll(launched.channel.raw)
        // A failed setup reports before its exit closes the channel, so the report is there
        // even when the exit itself is not visible yet.
        let reports = launched.reports()
        guard reports.isEmpty, !Self.hasExited(launched.pidfd.raw), let stamp = ProcessStamp.current(launched.pid) else {
            let status = try launched.wait()
            limits.cgroup?.destroy()
            _ = try Self.outcome(waitStatus: status, reports: reports + launched.reports())
            throw RuntimeError(.setup, "start environment: its init exited during setup (\(ExitStatus(waitStatus: status)))")
        }
        return StartedContainer(initProcess: stamp, cgroups: limits.cgroup?.plan.directories ?? [])
    }

    /// Runs the spec's process inside the running container `target`: in its namespaces and
    /// cgroup, with the spec's user, environment, working directory, capabilities, seccomp
    /// filter and rlimits, on a terminal of the container's own when the spec asks for one.
    /// Returns how the process ended, as `run` does.
    public func join(_ target: StartedContainer, spec: ContainerSpec, io: ContainerIO = .standard) throws -> ExitStatus {
        let writer = spec.idMapping.map(IDMapWriter.current)
        var process = try InitProcess.make(spec)
        process.rlimits = ContainerLimits.rlimits(spec.limits, cgroup: !target.cgroups.isEmpty,
                                                  openFiles: ResourceLimit.current(ResourceLimit.openFiles))
        let namespaces = try NamespaceSet.open(of: target.initProcess)
        defer { namespaces.close() }
        var plan = InitPlan(mounts: MountPlan(operations: [], rootfs: "/"), hostname: nil, loopbackUp: false,
                            process: process, setgroupsAllowed: writer?.setgroupsAllowed ?? true)
        plan.joins = namespaces.kinds.enumerated().map { NamespaceJoin(descriptor: InitPlan.firstPassedFD + Int32($0.offset), kind: $0.element) }

        let relay = try SignalRelay()
        var launcher = InitLauncher(initExecutable: initExecutable, inProcess: ProcessControl.threadCount == 1, cloneFlags: 0,
                                    idMapWriter: nil, stdio: spec.process.terminal ? nil : (io.input, io.output, io.error),
                                    passedFDs: namespaces.descriptors)
        launcher.joinCgroups = target.cgroups
        let launched = try launcher.launch(plan)
        defer { launched.kill() }
        if spec.process.terminal, let master = try? receiveTerminal(launched) {
            TerminalSession(master: master, io: io).relay(until: launched, signals: relay)
        } else {
            _ = ContainerSupervisor(launched: launched, relay: relay, policy: .forward).forwardSignalsUntilExit()
        }
        let status = try launched.wait()
        return try Self.outcome(waitStatus: status, reports: launched.reports())
    }

    /// `path` open for exec if it is a static executable; nil otherwise (a dynamic one needs
    /// the host's loader, which a container's root does not have).
    static func openStaticExecutable(_ path: String) -> Int32? {
        guard let descriptor = try? FileDescriptor.openRaw(path, O_RDONLY | O_CLOEXEC) else { return nil }
        guard ExecutableImage.isStatic(descriptor: descriptor) else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    static func hasExited(_ pidfd: Int32) -> Bool {
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }
}
