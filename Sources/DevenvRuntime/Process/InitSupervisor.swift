import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// PID 1 inside the container: starts the command, forwards signals to it, reaps every
/// zombie, and when the command exits kills whatever is left in the pid namespace and exits
/// with the command's status.
struct InitSupervisor {
    let process: InitProcess
    let setgroupsAllowed: Bool
    let reporter: Reporter
    /// PID 1 of the pid namespace, which ends everything left when the command exits; a joined
    /// session's supervisor only waits for its own command.
    var ownsNamespace = true

    /// Signals the parent relays to init and init relays to the command.
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    func run() -> Never {
        var terminal: Int32 = -1
        if process.terminal {
            do {
                terminal = try openTerminal()
            } catch let error as SystemError {
                reporter.failSetup(error)
            } catch {
                reporter.failSetup("\(error)")
            }
        }
        close(InitPlan.channelFD)

        var waited = sigset_t()
        sigemptyset(&waited)
        sigaddset(&waited, SIGCHLD)
        for signal in Self.forwarded { sigaddset(&waited, signal) }
        // Blocked before fork so no signal is lost between fork and the wait loop.
        sigprocmask(SIG_BLOCK, &waited, nil)

        let child = fork()
        if child < 0 { reporter.fail("fork command", errno: errno) }
        if child == 0 {
            CommandLauncher(process: process, setgroupsAllowed: setgroupsAllowed, reporter: reporter, terminal: terminal).exec()
        }
        if terminal >= 0 {
            close(terminal)
            detachFromHostTerminal()
        }
        supervise(child: child, signals: &waited)
    }

    /// A pty from the container's own devpts: the master goes to the parent over fd 3, the
    /// slave (owned by the user, like a login terminal) becomes the command's stdio.
    private func openTerminal() throws -> Int32 {
        let (master, slave) = try TerminalControl.openPseudoterminal("/dev/pts/ptmx")
        defer { close(master) }
        guard fchown(slave, process.uid, process.terminalGID) == 0 else { throw SystemError.last("chown pty") }
        guard fchmod(slave, 0o620) == 0 else { throw SystemError.last("chmod pty") }
        try FileDescriptor.send(master, over: InitPlan.channelFD, operation: "send pty to devenv")
        return slave
    }

    /// With a pty the command never needs devenv's own stdio (the user's terminal); init lets
    /// go of it so nothing in the container can reach it through PID 1.
    private func detachFromHostTerminal() {
        guard let null = try? FileDescriptor.openRaw("/dev/null", O_RDWR) else { return }
        for target: Int32 in 0...2 { dup2(null, target) }
        if null > 2 { close(null) }
    }

    private func supervise(child: pid_t, signals: inout sigset_t) -> Never {
        var status: Int32?
        while true {
            var info = siginfo_t()
            let signal = sigwaitinfo(&signals, &info)
            if signal < 0 { continue } // EINTR
            if signal != SIGCHLD {
                if status == nil { kill(child, signal) }
                continue
            }
            while true {
                var waitStatus: Int32 = 0
                let pid = waitpid(-1, &waitStatus, WNOHANG)
                if pid <= 0 { break }
                if pid == child { status = waitStatus }
            }
            if let status { finish(status) }
        }
    }

    /// The command is gone: nothing else may outlive it in this pid namespace.
    private func finish(_ status: Int32) -> Never {
        if ownsNamespace {
            kill(-1, SIGKILL)
            var ignored: Int32 = 0
            while waitpid(-1, &ignored, 0) > 0 || errno == EINTR {}
        }
        switch ExitStatus(waitStatus: status) {
        case .exited(let code):
            _exit(code)
        case .signaled(let signal):
            // PID 1 cannot kill itself with a signal; the parent learns it from the report.
            reporter.send(.signal(signal))
            _exit(128 + signal)
        }
    }
}
