import CDevenvShim
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

    public static func main() -> Never {
        let reporter = Reporter(descriptor: InitPlan.reportFD)
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
        guard devenv_prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0) == 0 else { reporter.fail("prctl PR_SET_PDEATHSIG", errno: errno) }
        if reporter.parentGone { _exit(RuntimeExitCode.setupFailed) }
        umask(0o022)
        do {
            var executor = MountExecutor(plan: plan.mounts, idmappedSources: plan.idmappedSources)
            try executor.run()
            if let hostname = plan.hostname {
                guard devenv_sethostname(hostname, hostname.utf8.count) == 0 else { throw SystemError.last("sethostname", path: hostname) }
            }
            if plan.loopbackUp {
                guard devenv_loopback_up() == 0 else { throw SystemError.last("bring up loopback interface lo") }
            }
            // End of input: the parent has moved init into the container's cgroup.
            _ = try Syscall.readAll(InitPlan.channelFD)
            if plan.newCgroupNamespace {
                guard devenv_unshare(Int32(CLONE_NEWCGROUP)) == 0 else { throw SystemError.last("unshare cgroup namespace") }
            }
        } catch let error as SystemError {
            reporter.failSetup(error)
        } catch {
            reporter.failSetup("\(error)")
        }
        guard let process = plan.process else {
            close(InitPlan.channelFD)
            _exit(0)
        }
        // Container processes must not reach this binary through /proc/1/exe (CVE-2019-5736).
        _ = devenv_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        let supervisor = InitSupervisor(process: process, setgroupsAllowed: plan.setgroupsAllowed, reporter: reporter)
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
        try? Syscall.writeAll(descriptor, Array(report.line.utf8))
    }

    /// Hints are added by the parent, which knows more about the host (`SetupHint`).
    func failSetup(_ error: SystemError) -> Never {
        failSetup(SystemError(error.operation, path: error.path, errno: error.errno, reason: error.reason).description)
    }

    func failSetup(_ text: String) -> Never {
        send(.setup(text))
        _exit(DEVENV_INIT_SETUP_FAILED)
    }

    func fail(_ stage: String, errno code: Int32) -> Never {
        failSetup(InitReport.describe(stage, errno: code))
    }
}
