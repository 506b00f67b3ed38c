import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The container's init: PID 1 of the new namespaces, always in a single-threaded process —
/// `devenv-init`/`devenv __init` exec'd by a multi-threaded parent (where setup between clone
/// and exec is unsafe), or the clone of a parent that has only one thread. Sets up the root
/// filesystem, starts the command and stays as its minimal init. Failures go to the report
/// pipe (fd 4) as `setup stage: message (ERRNO)`.
public enum ContainerInit {
    /// The hidden argument that selects this entry point in the devenv executable.
    public static let argument = "__init"

    /// Whether `arguments` (argv) select the runtime's own entry points: init, or the holder
    /// of a project's private network.
    public static func isEntry(_ arguments: [String]) -> Bool {
        (arguments.count == 2 && (arguments[1] == argument || arguments[1] == KeeperInit.argument))
            || (arguments.count >= 2 && arguments[1] == NetworkHolder.argument)
    }

    public static func main() -> Never {
        let arguments = CommandLine.arguments
        if arguments.count >= 2, arguments[1] == NetworkHolder.argument { NetworkHolder.main(Array(arguments.dropFirst(2))) }
        let reporter = Reporter(descriptor: InitPlan.reportFD)
        if arguments.count == 2, arguments[1] == KeeperInit.argument {
            // Only what `KeeperInit.exec` started, as PID 1 of a set-up container; typed by
            // hand it would wait forever with its output on /dev/null.
            guard getpid() == 1 else {
                StandardError.line("devenv: error: \(KeeperInit.argument) runs only as a container's init")
                _exit(RuntimeExitCode.setupFailed)
            }
            KeeperInit(reporter: reporter).run()
        }
        let plan: InitPlan
        do {
            plan = try InitPlan.receive(from: InitPlan.channelFD)
        } catch {
            reporter.failSetup("read plan: \(error)")
        }
        run(plan)
    }

    /// Init proper, on fds 3 (channel) and 4 (report): after `main` read the plan, or in the
    /// cloned copy of a single-threaded devenv that already holds it (`InitLauncher`).
    static func run(_ plan: InitPlan) -> Never {
        let reporter = Reporter(descriptor: InitPlan.reportFD)
        do {
            try ProcessControl.setParentDeathSignal(SIGKILL)
        } catch let error as SystemError {
            reporter.fail(error.operation, errno: error.errno)
        } catch {
            reporter.failSetup("\(error)")
        }
        if reporter.parentGone { _exit(RuntimeExitCode.setupFailed) }
        umask(0o022)
        do {
            for join in plan.joins {
                try ProcessControl.enterNamespace(join.descriptor, what: join.kind)
                close(join.descriptor)
            }
            if plan.joins.isEmpty {
                var executor = MountExecutor(plan: plan.mounts, idmappedSources: plan.idmappedSources, calls: LinuxMountCalls())
                try executor.run()
            }
            if let hostname = plan.hostname {
                try ProcessControl.setHostname(hostname)
            }
            if plan.loopbackUp {
                try ProcessControl.bringUpLoopback()
            }
            // End of input: the parent has moved init into the container's cgroup.
            _ = try FileDescriptor.readAll(InitPlan.channelFD)
            if plan.newCgroupNamespace {
                try ProcessControl.unshare(CLONE_NEWCGROUP, what: "cgroup namespace")
            }
        } catch let error as SystemError {
            reporter.failSetup(error)
        } catch {
            reporter.failSetup("\(error)")
        }
        if let service = plan.service {
            ServiceSupervisor(service: service, setgroupsAllowed: plan.setgroupsAllowed, reporter: reporter).run()
        }
        if plan.keep {
            if let executable = plan.keeperExecutable { KeeperInit.exec(executable, reporter: reporter) }
            KeeperInit(reporter: reporter).run()
        }
        guard let process = plan.process else {
            close(InitPlan.channelFD)
            _exit(0)
        }
        // Container processes must not reach this binary through /proc/1/exe (CVE-2019-5736).
        ProcessControl.setNotDumpable()
        // A joining session is not PID 1 (setns applies the pid namespace to its children only).
        let supervisor = InitSupervisor(process: process, setgroupsAllowed: plan.setgroupsAllowed, reporter: reporter,
                                        ownsNamespace: plan.joins.isEmpty)
        supervisor.run()
    }
}

/// Writes report records (see `InitReport`) to the parent.
struct Reporter {
    let descriptor: Int32

    /// The parent holds the read end for its whole life; a write end without readers polls as
    /// POLLERR, which tells a freshly armed PDEATHSIG may have come too late.
    var parentGone: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, 0) == 1 && (entry.revents & Int16(POLLERR)) != 0
    }

    func send(_ report: InitReport) {
        try? FileDescriptor.writeAll(descriptor, Array(report.line.utf8))
    }

    /// Hints are added by the parent, which knows more about the host (`SetupHint`).
    func failSetup(_ error: SystemError) -> Never {
        failSetup(SystemError(error.operation, path: error.path, errno: error.errno, reason: error.reason).description)
    }

    func failSetup(_ text: String) -> Never {
        send(.setup(text))
        _exit(ProcessControl.setupFailedStatus)
    }

    func fail(_ stage: String, errno code: Int32) -> Never {
        failSetup(InitReport.describe(stage, errno: code))
    }
}
