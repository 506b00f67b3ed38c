import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What a service's init supervises (`InitPlan.service`): the command, when to start it
/// again, and where its output goes.
struct ServiceSupervision: Codable, Equatable {
    var name: String
    var process: InitProcess
    var restart: ServiceRestart
    /// The log directory, a descriptor passed to init (`InitPlan.firstPassedFD` on): the
    /// service's `NAME.log` (and `NAME.log.1`) and `NAME.state` live there.
    var logDirectory: Int32
    /// Bytes per log file before it is rotated to `NAME.log.1`: at most twice this is kept.
    var logLimit: Int
    /// Rootless: the container ids of the user who started it, who must be able to read the
    /// log and state (init is container root, a subordinate id on the host). nil: as created.
    var logOwner: LogOwner?

    struct LogOwner: Codable, Equatable {
        var uid: UInt32
        var gid: UInt32
    }
}

/// PID 1 of a service's container. It starts the service with stdout and stderr in a log of
/// bounded size, starts it again after it exits when the policy says so (pausing longer
/// after each quick exit), records each start and exit in the state file, and reaps
/// whatever is left to it. SIGTERM (or SIGINT, SIGHUP) goes to every process of the
/// container, and init exits once they are gone; whoever stops it sends SIGKILL after a
/// timeout, which the kernel extends to the whole pid namespace.
struct ServiceSupervisor {
    let service: ServiceSupervision
    let setgroupsAllowed: Bool
    let reporter: Reporter

    static let stopping: [Int32] = [SIGTERM, SIGINT, SIGHUP]
    /// A run shorter than this counts as a quick exit and doubles the pause.
    static let steadyRun = 10.0

    func run() -> Never {
        // The service outlives the devenv that started it.
        try? ProcessControl.setParentDeathSignal(0)
        ProcessControl.setNotDumpable()
        let relay: SignalRelay
        let output: (read: Int32, write: Int32)
        do {
            relay = try SignalRelay(signals: [SIGCHLD] + Self.stopping)
            let ends = try FileDescriptor.pipe(operation: "create the service's log pipe")
            output = (ends.read.release(), ends.write.release())
            FileDescriptor.setNonBlocking(output.read)
        } catch let error as SystemError {
            reporter.failSetup(error)
        } catch {
            reporter.failSetup("\(error)")
        }
        if let null = try? FileDescriptor.openRaw("/dev/null", O_RDWR) {
            for target: Int32 in 0...2 { dup2(null, target) }
            if null > 2 { close(null) }
        }
        var log = ServiceLog(directory: service.logDirectory, name: service.name, limit: service.logLimit, owner: service.logOwner)
        var state = ServiceState(phase: .running, since: Date().timeIntervalSince1970, owner: service.logOwner)
        var child: pid_t? = start(output: output.write, log: &log)
        var started = Date()
        state.write(service: service.name, directory: service.logDirectory)
        // Closing the channel tells the starter that setup is done.
        close(InitPlan.channelFD)
        close(reporter.descriptor)

        var stopping = false
        var finished = false
        var pause = 0.25
        var restartAt: Date?
        // Once asked to stop, nothing starts again: a stop during a restart's pause ends it.
        func takeStopSignals() {
            for signal in relay.drain() where Self.stopping.contains(signal) && !stopping {
                stopping = true
                restartAt = nil
                kill(-1, SIGTERM)
            }
        }
        while true {
            let timeout: Int32
            if stopping || finished {
                timeout = 20
            } else if let restartAt {
                timeout = Int32(max(0, min(restartAt.timeIntervalSinceNow, 60)) * 1000) + 1
            } else {
                timeout = -1
            }
            var entries = [pollfd(fd: relay.readEnd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)]
            _ = poll(&entries, 2, timeout)
            log.copy(from: output.read)
            takeStopSignals()
            var status: Int32 = 0
            while case let pid = waitpid(-1, &status, WNOHANG), pid > 0 {
                guard pid == child else { continue }
                child = nil
                let exit = ExitStatus(waitStatus: status)
                state.lastExit = exit.description
                state.lastExitCode = exit.shellCode
                state.since = Date().timeIntervalSince1970
                if !stopping && service.restart.restarts(after: exit) {
                    pause = Date().timeIntervalSince(started) >= Self.steadyRun ? 0.25 : min(pause * 2, 10)
                    restartAt = Date().addingTimeInterval(pause)
                    state.phase = .restarting
                } else {
                    state.phase = stopping ? .stopped : .exited
                    if !stopping {
                        // Nothing is left to supervise: what the service left behind goes too.
                        finished = true
                        kill(-1, SIGTERM)
                    }
                }
                state.write(service: service.name, directory: service.logDirectory)
            }
            // A stop that arrived while the exit was being recorded wins over the restart.
            takeStopSignals()
            if let due = restartAt, due <= Date(), child == nil {
                restartAt = nil
                child = start(output: output.write, log: &log)
                started = Date()
                state.restarts += 1
                state.phase = .running
                state.since = Date().timeIntervalSince1970
                state.write(service: service.name, directory: service.logDirectory)
            }
            if (stopping || finished) && child == nil && KeeperInit.othersLeft() == 0 {
                log.copy(from: output.read)
                if stopping {
                    state.phase = .stopped
                    state.write(service: service.name, directory: service.logDirectory)
                }
                _exit(0)
            }
        }
    }

    /// Forks the service with its output on the log pipe; a failure to start it goes to the
    /// log too (the starter has gone by the time a restart fails).
    private func start(output: Int32, log: inout ServiceLog) -> pid_t? {
        let pid = fork()
        if pid == 0 {
            if let null = try? FileDescriptor.openRaw("/dev/null", O_RDONLY) { dup2(null, 0) }
            dup2(output, 1)
            dup2(output, 2)
            CommandLauncher(process: service.process, setgroupsAllowed: setgroupsAllowed, reporter: Reporter(descriptor: 2), terminal: -1).exec()
        }
        if pid < 0 {
            log.append(Array("devenv: fork \(service.name): \(Errno.message(errno))\n".utf8))
            return nil
        }
        return pid
    }
}

/// A service's output on disk: `NAME.log`, and the previous `limit` bytes in `NAME.log.1`.
struct ServiceLog {
    let directory: Int32
    let name: String
    let limit: Int
    let owner: ServiceSupervision.LogOwner?
    private var descriptor: Int32 = -1
    private var size = 0

    init(directory: Int32, name: String, limit: Int, owner: ServiceSupervision.LogOwner?) {
        self.directory = directory
        self.name = name
        self.limit = max(limit, 4096)
        self.owner = owner
        open()
    }

    private mutating func open() {
        descriptor = FileDescriptor.openRaw(in: directory, ServiceState.logName(name), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, mode: 0o600)
        if descriptor >= 0, let owner { fchown(descriptor, owner.uid, owner.gid) }
        var info = stat()
        size = descriptor >= 0 && fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Whatever the pipe holds now.
    mutating func copy(from pipe: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipe, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            append(Array(buffer[0..<count]))
        }
    }

    mutating func append(_ bytes: [UInt8]) {
        if size > 0 && size + bytes.count > limit { rotate() }
        guard descriptor >= 0 else { return }
        // A full disk loses log lines, never the service.
        if (try? FileDescriptor.writeAll(descriptor, bytes)) != nil { size += bytes.count }
    }

    private mutating func rotate() {
        if descriptor >= 0 { close(descriptor) }
        let current = ServiceState.logName(name)
        renameat(directory, current, directory, current + ".1")
        open()
    }
}
