import DevenvSeccomp
import DevenvTestSupport
import Foundation
import Testing

/// The verification plan with a real kernel: the probe loads the
/// compiled filter into itself and calls each syscall of the table; the control column is
/// the same binary with the same capabilities and no filter.
@Suite(.serialized) struct ProbeTests {
    enum Expected: Equatable {
        case result(String)
        /// Reached the kernel; what the kernel says depends on the file system or config.
        case notEPERM
    }

    /// Filter column, x86_64 ABI, Docker's capability set. Rows 1-28 of the plan.
    static let expectations: [String: Expected] = {
        var table: [String: Expected] = [:]
        let eperm = [
            "mount", "umount2", "unshare", "unshare_userns", "clone_newuser", "clone_newns", "setns", "keyctl",
            "add_key", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf",
            "perf_event_open", "userfaultfd", "open_by_handle_at", "kexec_load", "init_module", "finit_module",
            "reboot", "swapon", "swapoff", "pivot_root", "acct", "iopl", "ioperm", "vhangup", "settimeofday",
            "clock_settime", "personality_bsd", "socket_vsock", "socket_alg", "socket_vsock_high", "socket_alg_high",
            "move_pages", "migrate_pages", "get_mempolicy", "open_tree", "fsopen", "quotactl", "lookup_dcookie",
            "kcmp", "pidfd_getfd", "syslog", "uselib", "ustat", "sysfs", "_sysctl", "create_module", "nfsservctl",
            "i386.keyctl", "i386.unshare", "i386.mount", "x32.keyctl",
            // Issue 11 item 5: socketcall(SYS_SOCKET) is refused whatever the family (it sits
            // in memory); the direct i386 socket(2) gets x86_64's family rules.
            "i386.socketcall_vsock", "i386.socketcall_inet", "i386.socket_vsock", "socketcall_vsock", "socketcall_inet",
        ]
        let enosys = ["clone3", "open_tree_attr", "nr470", "i386.clone3", "i386.nr470", "x32.nr470"]
        let ok = [
            "clone", "personality_query", "socket_unix", "socket_inet", "fork", "pthread_create", "ptrace_traceme",
            "process_vm_readv", "chroot", "memfd_create", "statx", "faccessat2", "openat2", "close_range",
            "io_setup", "i386.getpid", "i386.socket_inet", "i386.socketcall_socketpair", "socketcall_socketpair",
        ]
        for row in eperm { table[row] = .result("EPERM") }
        for row in enosys { table[row] = .result("ENOSYS") }
        for row in ok { table[row] = .result("OK") }
        // name_to_handle_at: EOPNOTSUPP on some file systems. fchmodat2: EINVAL (invalid
        // flags) if libseccomp knows it, else ENOSYS from the stub. x32.getpid: ENOSYS from a
        // kernel without x32.
        for row in ["name_to_handle_at", "fchmodat2", "x32.getpid"] { table[row] = .notEPERM }
        return table
    }()

    /// Rows whose control result must differ from the filter's on any kernel devenv
    /// supports; together they show that seccomp, not the kernel, gives the expected errno.
    static let discriminating = [
        "mount", "umount2", "unshare", "unshare_userns", "clone_newuser", "clone3", "setns", "keyctl", "add_key",
        "request_key", "io_uring_enter", "perf_event_open", "clock_settime", "personality_bsd", "socket_vsock",
        "socket_alg", "socket_vsock_high", "socket_alg_high", "move_pages", "get_mempolicy", "open_tree", "kcmp",
        "pidfd_getfd", "i386.keyctl", "i386.unshare", "i386.mount", "i386.clone3", "x32.keyctl",
        "i386.socketcall_vsock", "i386.socketcall_inet", "i386.socket_vsock",
    ]

    /// Rows only the -m32 build has (a 32-bit program's own socketcall).
    static let i386Only: Set = ["socketcall_vsock", "socketcall_inet", "socketcall_socketpair"]

    static let rootRequired = "needs root (setpriv reduces the bounding set to Docker's capabilities)"

    func filter() throws -> SeccompProgram {
        try SeccompCompiler.compile(try SeccompProfile.dockerDefault(capabilities: .dockerDefault))
    }

    @Test(.enabled(if: Requirement.isRoot || Requirement.onCI, "needs root (setpriv reduces the bounding set to Docker's capabilities)"))
    func filterColumnMatchesThePlanAndDiffersFromControl() throws {
        try #require(Requirement.isRoot, "\(Self.rootRequired)")
        try #require(Requirement.canBuildProbe, "cc -static cannot build the probe (install libc6-dev)")
        let program = try filter()
        try ProbeFixture.with { probe in
            let bpf = try probe.write(program)
            let filtered = try probe.run(["--load-bpf", bpf.path, "--syscalls"], capabilities: .dockerDefault)
            let control = try probe.run(["--syscalls"], capabilities: .dockerDefault)
            try #require(filtered.exitStatus == 0 && filtered.report.isComplete, "\(filtered.output)")
            try #require(control.exitStatus == 0 && control.report.isComplete, "\(control.output)")
            let controlResults = Dictionary(control.report.syscalls, uniquingKeysWith: { $1 })
            var table = "row                     filter        control\n"
            for (row, result) in filtered.report.syscalls {
                let padded = row.padding(toLength: 24, withPad: " ", startingAt: 0)
                table += padded + result.padding(toLength: 14, withPad: " ", startingAt: 0) + (controlResults[row] ?? "-") + "\n"
                switch Self.expectations[row] {
                case .result(let expected)?: #expect(result == expected, "sys.\(row)")
                case .notEPERM?: #expect(result != "EPERM" && !result.hasPrefix("SIG"), "sys.\(row)")
                case nil: break  // informational rows
                }
            }
            print(table)
            for row in Self.discriminating {
                let result = filtered.report["sys.\(row)"]
                #expect(result != nil && result != controlResults[row], "sys.\(row): \(result ?? "-") with and without the filter")
            }
            for row in Self.expectations.keys where !row.hasPrefix("i386.") && !row.hasPrefix("x32.") && !Self.i386Only.contains(row) {
                #expect(filtered.report["sys.\(row)"] != nil, "the probe has no row \(row)")
            }
        }
    }

    /// F3: what /proc/self/status shows inside the filter with Docker's capabilities.
    @Test(.enabled(if: Requirement.isRoot || Requirement.onCI, "needs root (setpriv reduces the bounding set to Docker's capabilities)"))
    func processStateUnderTheFilter() throws {
        try #require(Requirement.isRoot, "\(Self.rootRequired)")
        let program = try filter()
        try ProbeFixture.with { probe in
            let report = try probe.run(["--load-bpf", try probe.write(program).path], capabilities: .dockerDefault).report
            #expect(report["bpf"] == "\(program.instructions.count)")
            #expect(report["Seccomp"] == "2")
            #expect(report["Seccomp_filters"] == "1")
            #expect(report["NoNewPrivs"] == "1")
            for key in ["CapBnd", "CapPrm", "CapEff"] { #expect(report[key] == "00000000a80425fb", "\(key)") }
            for key in ["CapInh", "CapAmb"] { #expect(report[key] == "0000000000000000", "\(key)") }
        }
    }

    /// An unprivileged process can load the filter too: the probe sets no_new_privs first.
    @Test(.enabled(if: Requirement.canBuildProbe || Requirement.onCI, "cc -static cannot build the probe"))
    func loadsTheFilterWithoutSetpriv() throws {
        let program = try filter()
        try ProbeFixture.with { probe in
            let result = try probe.run(["--load-bpf", try probe.write(program).path, "--exit", "3"])
            #expect(result.exitStatus == 3)
            #expect(result.report["Seccomp"] == "2")
            #expect(result.report["NoNewPrivs"] == "1")
            #expect(result.report.isComplete)
        }
    }

    @Test(.enabled(if: Requirement.canBuildProbe || Requirement.onCI, "cc -static cannot build the probe"))
    func malformedProgramsAreRefused() throws {
        try ProbeFixture.with { probe in
            let truncated = probe.directory.appendingPathComponent("truncated.bpf")
            try Data([1, 2, 3, 4, 5]).write(to: truncated)
            let result = try probe.run(["--load-bpf", truncated.path])
            #expect(result.exitStatus == 2)
            #expect(result.report["bpf"] == "error:EINVAL")
            // Well-formed bytes, but the kernel's checker refuses a jump past the end.
            let invalid = probe.directory.appendingPathComponent("invalid.bpf")
            try Data(BPFInstruction.encode([BPFInstruction(code: 0x15, jt: 5, jf: 5, k: 0),
                                            BPFInstruction(code: 0x06, k: 0x7fff_0000)])).write(to: invalid)
            let refused = try probe.run(["--load-bpf", invalid.path])
            #expect(refused.exitStatus == 2)
            #expect(refused.report["bpf"] == "error:EINVAL")
        }
    }

    @Test(.enabled(if: Requirement.canBuildProbe || Requirement.onCI, "cc -static cannot build the probe"))
    func exitStatusAndSignalsPassThrough() throws {
        try ProbeFixture.with { probe in
            #expect(try probe.run(["--exit", "7"]).exitStatus == 7)
            let terminated = try probe.run(["--kill-self", "TERM"])
            #expect(terminated.signal == SIGTERM && terminated.report.isComplete)
            #expect(try probe.run(["--kill-self", "SIGKILL"]).signal == SIGKILL)
            #expect(try probe.run(["--kill-self", "10"]).signal == 10)
            #expect(try probe.run(["--bogus"]).exitStatus == 64)
        }
    }

    @Test(.enabled(if: Requirement.canBuildProbe || Requirement.onCI, "cc -static cannot build the probe"))
    func identityReport() throws {
        try ProbeFixture.with { probe in
            let report = try probe.run(["--mounts"]).report
            #expect(report["abi"] == "x86_64" || report["abi"] == "aarch64")
            #expect(report["uid"] == "\(getuid())" && report["gid"] == "\(getgid())")
            #expect(report["pid"].flatMap { Int32($0) } != nil)
            #expect(report["cwd"] == FileManager.default.currentDirectoryPath)
            #expect(report["uid_map"]?.isEmpty == false)
            #expect(report["mounts"] == "\(report.values("mount").count)")
            #expect(report.values("mount").allSatisfy { !$0.contains("\n") })
            let fds = report["fds"]?.split(separator: ",").map(String.init) ?? []
            #expect(fds.starts(with: ["0", "1", "2"]))
            #expect(report["fd.1"]?.hasPrefix("pipe:") == true)
            #expect(report["Seccomp"] == "0")
        }
    }

    /// Row 28 with a real 32-bit program: its libc runs under the filter, and the i386
    /// rules apply to its own syscalls.
    @Test(.enabled(if: (Requirement.isRoot && Requirement.canBuildI386Probe) || Requirement.onCI,
                   "needs root and gcc-multilib (cc -m32 -static)"))
    func i386ProgramUnderTheFilter() throws {
        try #require(Requirement.isRoot, "\(Self.rootRequired)")
        try #require(Requirement.canBuildI386Probe, "cc -m32 -static cannot build the probe (install gcc-multilib)")
        let program = try filter()
        try ProbeFixture.with(extraFlags: ["-m32"]) { probe in
            let result = try probe.run(["--load-bpf", try probe.write(program).path, "--syscalls"], capabilities: .dockerDefault)
            let report = result.report
            try #require(result.exitStatus == 0 && report.isComplete, "\(result.output)")
            #expect(report["abi"] == "i386")
            #expect(report["Seccomp"] == "2")
            for row in Self.i386Only { #expect(report["sys.\(row)"] != nil, "the i386 probe has no row \(row)") }
            for (row, result) in report.syscalls {
                switch Self.expectations[row] {
                case .result(let expected)?: #expect(result == expected, "i386 sys.\(row)")
                case .notEPERM?: #expect(result != "EPERM", "i386 sys.\(row)")
                case nil: Issue.record("unexpected row \(row)")
                }
            }
        }
    }
}
