import DevenvSeccomp
import Testing

/// The policy as data: what Docker's default profile allows, blocks and gates,
/// checked on the rules without compiling them.
@Suite struct SeccompProfileTests {
    let profile = SeccompProfile.dockerDefault(capabilities: .dockerDefault, architecture: .x86_64)

    static let eperm = SeccompAction.errno(1)

    /// Blocked whatever the capabilities, or for lack of a capability.
    static let blocked = [
        "add_key", "keyctl", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register",
        "userfaultfd", "kexec_load", "kexec_file_load", "pivot_root", "swapon", "swapoff", "move_pages",
        "migrate_pages", "uselib", "ustat", "sysfs", "_sysctl", "create_module", "get_kernel_syms",
        "query_module", "nfsservctl", "getpmsg", "putpmsg", "afs_syscall", "tuxcall", "security", "vserver",
        "mount", "umount2", "unshare", "setns", "bpf", "perf_event_open", "fanotify_init", "open_tree",
        "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "quotactl", "quotactl_fd",
        "lookup_dcookie", "sethostname", "setdomainname", "syslog", "lsm_get_self_attr", "lsm_set_self_attr",
        "lsm_list_modules", "open_by_handle_at", "reboot", "init_module", "finit_module", "delete_module",
        "acct", "kcmp", "pidfd_getfd", "process_madvise", "iopl", "ioperm", "settimeofday", "clock_settime",
        "vhangup", "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", "vm86", "vm86old",
        "stime", "open_tree_attr", "file_getattr", "file_setattr",
    ]

    static let allowed = [
        "read", "chmod", "chown", "ioctl", "prctl", "seccomp", "memfd_create", "memfd_secret",
        "name_to_handle_at", "adjtimex", "clock_adjtime", "io_setup", "io_submit", "landlock_create_ruleset",
        "landlock_add_rule", "landlock_restrict_self", "statmount", "listmount", "mseal", "setxattrat",
        "getxattrat", "listxattrat", "removexattrat", "faccessat2", "openat2", "close_range", "statx",
        "ptrace", "process_vm_readv", "process_vm_writev", "arch_prctl", "modify_ldt", "chroot",
        "fork", "vfork", "execve", "rseq",
    ]

    @Test func defaultsAndArchitectures() throws {
        #expect(profile.defaultAction == Self.eperm)
        #expect(profile.badArchitectureAction == .killProcess)
        #expect(profile.architectures == [.x86_64, .x86, .x32])
        #expect(profile.newerSyscallErrno == 38)
        let arm = SeccompProfile.dockerDefault(capabilities: .dockerDefault, architecture: .aarch64)
        #expect(arm.architectures == [.aarch64, .arm])
        #expect(try SeccompProfile.dockerDefault().architectures.first == SeccompArchitecture.native)
    }

    @Test(arguments: blocked)
    func blockedForDockerCapabilities(name: String) {
        #expect(profile.action(for: name) == Self.eperm, "\(name)")
        #expect(!profile.allowsUnconditionally(name))
    }

    @Test(arguments: allowed)
    func allowedWhateverTheArguments(name: String) {
        #expect(profile.allowsUnconditionally(name), "\(name)")
    }

    @Test func allowlistSize() {
        // 360 unconditional names (Docker's 361 without socketcall), plus ptrace and process_vm_* (kernel >= 4.8), chroot
        // (CAP_SYS_CHROOT is a Docker default), and arch_prctl and modify_ldt on x86_64.
        let outright = Set(profile.rules.filter { $0.action == .allow && $0.conditions.isEmpty }.map(\.syscall))
        #expect(outright.count == 360 + 3 + 1 + 2)
    }

    @Test func cloneWithoutNamespaceFlagsOnly() {
        let namespaceFlags: [UInt64] = [0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000]
        for flag in namespaceFlags {
            #expect(profile.action(for: "clone", arguments: [flag | 17]) == Self.eperm, "flag \(flag)")
        }
        // fork (SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) and pthread_create's flags.
        #expect(profile.action(for: "clone", arguments: [0x0120_0011]) == .allow)
        #expect(profile.action(for: "clone", arguments: [0x003d_0f00]) == .allow)
        #expect(profile.action(for: "clone3") == .errno(38))
    }

    @Test func socketBlocksAlgAndVsockAsTheKernelReadsTheFamily() {
        for family in UInt64(0)...64 {
            let expected: SeccompAction = [38, 40].contains(family) ? Self.eperm : .allow
            #expect(profile.action(for: "socket", arguments: [family]) == expected, "family \(family)")
            // The kernel truncates the int: with upper bits set it would see the same family.
            #expect(profile.action(for: "socket", arguments: [0x1_0000_0000 | family]) == Self.eperm)
        }
        #expect(profile.action(for: "socket", arguments: [0xffff_ffff]) == .allow)
        #expect(profile.action(for: "socket", arguments: [UInt64(bitPattern: -1)]) == Self.eperm)
    }

    /// Issue 11 item 5: socketcall(SYS_SOCKET) carries the family in memory, out of the
    /// filter's reach; it is refused, the other socketcall operations are not.
    @Test func socketcallCannotCreateSockets() {
        #expect(profile.action(for: "socketcall", arguments: [1]) == Self.eperm)
        #expect(profile.action(for: "socketcall", arguments: [0]) == Self.eperm)
        for call: UInt64 in 2...20 {
            #expect(profile.action(for: "socketcall", arguments: [call]) == .allow, "socketcall(\(call))")
        }
    }

    /// Every argument rule of the policy, and the syscall it guards: a multiplexer that
    /// reaches the same kernel code without those arguments in registers would bypass it.
    @Test func everyArgumentRuleIsOnASyscallWithoutAnotherRoute() {
        let guarded = Set(profile.rules.filter { !$0.conditions.isEmpty }.map(\.syscall))
        #expect(guarded == ["socket", "socketcall", "personality", "clone"])
        #expect(!profile.allowsUnconditionally("socketcall"))
    }

    @Test func personalityAllowsOnlyTheFiveValues() {
        for value: UInt64 in [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff] {
            #expect(profile.action(for: "personality", arguments: [value]) == .allow)
        }
        for value: UInt64 in [0x6, 0x0040_0000, 0x1, 0x1_0000_0000] {
            #expect(profile.action(for: "personality", arguments: [value]) == Self.eperm)
        }
    }

    @Test(arguments: [
        (Capability.sysAdmin, ["mount", "umount2", "unshare", "setns", "bpf", "perf_event_open", "fsopen", "open_tree",
                               "quotactl", "sethostname", "syslog", "lsm_list_modules", "clone", "clone3"]),
        (.dacReadSearch, ["open_by_handle_at"]),
        (.sysBoot, ["reboot"]),
        (.sysModule, ["init_module", "finit_module", "delete_module"]),
        (.sysPacct, ["acct"]),
        (.sysPtrace, ["kcmp", "pidfd_getfd", "process_madvise"]),
        (.sysRawio, ["iopl", "ioperm"]),
        (.sysTime, ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        (.sysTtyConfig, ["vhangup"]),
        (.sysNice, ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        (.syslog, ["syslog"]),
        (.bpf, ["bpf"]),
        (.perfmon, ["perf_event_open"]),
    ])
    func capabilityGatedGroups(capability: Capability, names: [String]) {
        let granted = SeccompProfile.dockerDefault(capabilities: CapabilitySet.dockerDefault.union([capability]), architecture: .x86_64)
        for name in names {
            #expect(profile.action(for: name, arguments: [0x1000_0000]) != .allow, "\(name) without \(capability)")
            #expect(granted.allowsUnconditionally(name), "\(name) with \(capability)")
        }
    }

    @Test func chrootNeedsSysChroot() {
        let without = SeccompProfile.dockerDefault(capabilities: CapabilitySet.dockerDefault.subtracting([.sysChroot]), architecture: .x86_64)
        #expect(without.action(for: "chroot") == Self.eperm)
    }

    @Test func architectureSpecificEntries() {
        let arm = SeccompProfile.dockerDefault(capabilities: .dockerDefault, architecture: .aarch64)
        for name in ["cacheflush", "set_tls", "breakpoint", "arm_fadvise64_64", "sync_file_range2"] {
            #expect(arm.allowsUnconditionally(name) && !profile.allowsUnconditionally(name), "\(name)")
        }
        #expect(!arm.allowsUnconditionally("arch_prctl") && !arm.allowsUnconditionally("modify_ldt"))
    }

    @Test func namedSyscallsCoverEveryEntry() {
        #expect(profile.namedSyscalls.isSuperset(of: ["mount", "reboot", "clone3", "removexattrat", "set_tls"]))
        #expect(!profile.namedSyscalls.contains("kexec_load"))  // blocked by omission
    }

    @Test func uint32RangeMatchesExactlyTheRange() {
        let conditions = SeccompCondition.uint32Range(argument: 0, from: 41)
        #expect(conditions.count == 30)
        let samples: [UInt64] = [0, 40, 41, 42, 43, 44, 63, 64, 65, 1000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
                                 0x1_0000_0000, 0x1_0000_0029, 0xffff_ffff_ffff_ffff, 0xffff_ffff_0000_0029]
        for value in samples {
            let expected = value >> 32 == 0 && value >= 41
            #expect(conditions.filter { $0.matches(value) }.count == (expected ? 1 : 0), "value \(value)")
        }
        #expect(SeccompCondition.uint32Range(argument: 0, from: 0) == [SeccompCondition(argument: 0, .maskedEqual(mask: 0xffff_ffff_0000_0000), 0)])
        #expect(SeccompCondition.uint32Range(argument: 2, from: 0xffff_ffff).count == 1)
    }
}
