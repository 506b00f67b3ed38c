import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// PID 1 of a running environment (`InitPlan.keep`): it starts no command of its own. Sessions
/// join its namespaces; it reaps whatever they leave to it. SIGTERM (or SIGINT, SIGHUP) is
/// passed to every process of the environment, and it exits once they are gone; whoever stops
/// it sends SIGKILL after a timeout, which the kernel extends to the whole pid namespace.
struct KeeperInit {
    let reporter: Reporter

    static let stopping: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// The entry point of an exec'd keeper: its channel and report stay on fds 3 and 4.
    static let argument = "__keeper"

    /// Becomes the keeper as a fresh image of `descriptor` (a static executable with this
    /// entry point), keeping the setup already done. Rootless that is what lets the user join:
    /// the namespaces of a non-dumpable process may be opened only with CAP_SYS_PTRACE in the
    /// user namespace of its memory map, which is the container's only for an image exec'd in
    /// it, never for a clone of devenv.
    static func exec(_ descriptor: Int32, reporter: Reporter) -> Never {
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        let code = ProcessControl.exec(descriptor: descriptor, arguments: CStringArray(["devenv", argument]), environment: CStringArray([]))
        reporter.fail("exec keeper", errno: code)
    }

    func run() -> Never {
        // The environment outlives the devenv that started it (docs/daily-use.md).
        try? ProcessControl.setParentDeathSignal(0)
        ProcessControl.setNotDumpable()
        if let null = try? FileDescriptor.openRaw("/dev/null", O_RDWR) {
            for target: Int32 in 0...2 { dup2(null, target) }
            if null > 2 { close(null) }
        }
        var waited = sigset_t()
        sigemptyset(&waited)
        sigaddset(&waited, SIGCHLD)
        for signal in Self.stopping { sigaddset(&waited, signal) }
        sigprocmask(SIG_BLOCK, &waited, nil)
        // Closing the channel tells the starter that setup is done.
        close(InitPlan.channelFD)
        close(reporter.descriptor)

        var stopping = false
        var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        while true {
            let signal = stopping ? sigtimedwait(&waited, nil, &pause) : sigwaitinfo(&waited, nil)
            if signal == SIGCHLD || signal < 0 { reap() }
            if Self.stopping.contains(signal) {
                stopping = true
                kill(-1, SIGTERM)
            }
            if stopping && Self.othersLeft() == 0 { _exit(0) }
        }
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }

    /// Processes of this pid namespace besides PID 1, from its own /proc.
    static func othersLeft() -> Int {
        guard let directory = opendir("/proc") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "1", !name.isEmpty, name.allSatisfy(\.isNumber) { count += 1 }
        }
        return count
    }
}
