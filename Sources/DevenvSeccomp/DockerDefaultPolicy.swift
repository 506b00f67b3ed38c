/// Docker's default seccomp policy (moby/profiles `seccomp/default.json` v0.2.3) as data.
///
/// Entries keep the JSON's shape: names, an action, argument conditions, and the
/// capability / architecture filters that decide whether the entry applies. Three deliberate
/// departures, all documented in docs/seccomp.md:
/// - `minKernel: 4.8` (ptrace, process_vm_*) is treated as met: devenv needs newer kernels.
/// - socket()'s `family > 40` rule is narrowed to 32-bit values (see `uint32Range`).
/// - i386 `socketcall(SYS_SOCKET, …)` is refused (`socketcallEntries`): Docker allows
///   socketcall outright, which lets 32-bit code create the sockets the family rule refuses.
/// Entries for s390, ppc64le, riscv64, mips and loongarch are left out: devenv runs on
/// x86_64 and aarch64 only.
enum DockerDefaultPolicy {
    struct Entry {
        var names: [String]
        var action: SeccompAction = .allow
        var conditions: [SeccompCondition] = []
        /// The entry applies only if all of these are in the capability set.
        var requiredCapabilities: [Capability] = []
        /// The entry does not apply if any of these is in the capability set.
        var excludedCapabilities: [Capability] = []
        /// The entry applies only if the native architecture is one of these.
        var architectures: [SeccompArchitecture] = []

        func applies(to capabilities: CapabilitySet, native: SeccompArchitecture) -> Bool {
            requiredCapabilities.allSatisfy(capabilities.contains)
                && !excludedCapabilities.contains(where: capabilities.contains)
                && (architectures.isEmpty || architectures.contains(native))
        }
    }

    static let defaultAction = SeccompAction.errno(1)  // EPERM

    /// clone() flags that create namespaces: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER,
    /// NEWPID, NEWNET.
    static let namespaceCloneFlags: UInt64 = 0x7E02_0000

    /// Address families blocked for socket(): AF_ALG (38) and AF_VSOCK (40).
    static let blockedSocketFamilies: Set<UInt64> = [38, 40]

    /// Personalities a process may set: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32,
    /// and 0xffffffff, which only queries.
    static let allowedPersonalities: [UInt64] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff]

    static let entries: [Entry] = [
        Entry(names: unconditional),
        // moby: `minKernel: 4.8`; earlier kernels let ptrace bypass seccomp.
        Entry(names: ["process_vm_readv", "process_vm_writev", "ptrace"]),
    ] + socketEntries + socketcallEntries + personalityEntries + [
        Entry(names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
              architectures: [.arm, .aarch64]),
        Entry(names: ["arch_prctl"], architectures: [.x86_64, .x32]),
        Entry(names: ["modify_ldt"], architectures: [.x86_64, .x32, .x86]),
        Entry(names: ["open_by_handle_at"], requiredCapabilities: [.dacReadSearch]),
        Entry(names: [
            "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
            "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
            "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
            "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
        ], requiredCapabilities: [.sysAdmin]),
        Entry(names: ["clone"], conditions: [SeccompCondition(argument: 0, .maskedEqual(mask: namespaceCloneFlags), 0)],
              excludedCapabilities: [.sysAdmin]),
        // ENOSYS, not EPERM, so that glibc falls back to clone(2), whose flags can be checked.
        Entry(names: ["clone3"], action: .errno(38), excludedCapabilities: [.sysAdmin]),
        Entry(names: ["reboot"], requiredCapabilities: [.sysBoot]),
        Entry(names: ["chroot"], requiredCapabilities: [.sysChroot]),
        Entry(names: ["delete_module", "init_module", "finit_module"], requiredCapabilities: [.sysModule]),
        Entry(names: ["acct"], requiredCapabilities: [.sysPacct]),
        Entry(names: ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
              requiredCapabilities: [.sysPtrace]),
        Entry(names: ["iopl", "ioperm"], requiredCapabilities: [.sysRawio]),
        Entry(names: ["settimeofday", "stime", "clock_settime", "clock_settime64"], requiredCapabilities: [.sysTime]),
        Entry(names: ["vhangup"], requiredCapabilities: [.sysTtyConfig]),
        Entry(names: ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], requiredCapabilities: [.sysNice]),
        Entry(names: ["syslog"], requiredCapabilities: [.syslog]),
        Entry(names: ["bpf"], requiredCapabilities: [.bpf]),
        Entry(names: ["perf_event_open"], requiredCapabilities: [.perfmon]),
    ]

    /// moby: family < 38, == 39, or > 40. The last is split so that it only matches values
    /// the kernel reads as the same family (`uint32Range`).
    static let socketEntries: [Entry] = [
        Entry(names: ["socket"], conditions: [SeccompCondition(argument: 0, .lessThan, 38)]),
        Entry(names: ["socket"], conditions: [SeccompCondition(argument: 0, .equal, 39)]),
    ] + SeccompCondition.uint32Range(argument: 0, from: 41).map { Entry(names: ["socket"], conditions: [$0]) }

    /// i386 socketcall(2) multiplexes the socket calls and keeps their arguments in memory,
    /// where seccomp cannot read socket()'s family, so every argument rule on socket() could
    /// be bypassed through it. Its SYS_SOCKET (1) is refused whatever the family: 32-bit code
    /// creates sockets with the direct socket(2) (i386 #359), which the rules above check.
    /// The other calls act on existing sockets or, for SYS_SOCKETPAIR, match socketpair(2),
    /// which has no argument rule; they pass. SYS_* numbers are 1...20; 0 is invalid.
    static let socketcallEntries: [Entry] = [
        Entry(names: ["socketcall"], conditions: [SeccompCondition(argument: 0, .greaterOrEqual, 2)]),
    ]

    static let personalityEntries: [Entry] = allowedPersonalities.map {
        Entry(names: ["personality"], conditions: [SeccompCondition(argument: 0, .equal, $0)])
    }

    /// Allowed whatever the capabilities (360 names: Docker's 361 without socketcall).
    static let unconditional: [String] = """
        accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown
        chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
        clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
        copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
        epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
        exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
        fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
        flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
        fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
        futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid
        geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
        getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
        getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
        gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init
        inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
        io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
        landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat
        listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr
        lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir
        mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify
        mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
        mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
        name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
        pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64
        prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64
        pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
        recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename renameat
        renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction rt_sigpending
        rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
        rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
        sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
        sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
        sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
        semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
        setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
        setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
        setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
        setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd
        signalfd4 sigprocmask sigreturn socketpair splice stat stat64 statfs statfs64
        statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
        timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
        timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
        timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat
        uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid
        write writev
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    /// Every name the policy mentions, for any capability set or architecture.
    static var allNames: Set<String> { Set(entries.flatMap(\.names)) }
}
