/*
 * devenv probe: reports what a process sees from the inside (identity, capabilities,
 * seccomp state, fds) and, with --syscalls, the result of the seccomp verification
 * syscall table. Output is one `key=value` per line; values are escaped to one line
 * (backslash, \n, \t, \xHH for other bytes outside printable ASCII).
 *
 * Every syscall row runs in its own forked child, so a call the kernel allows (unshare,
 * personality, chroot) cannot change the probe itself. The child reports through its exit
 * status: 0 means the call succeeded, 1..255 is the errno. Calls are raw syscall(2)s with
 * harmless arguments (bad fd, NULL pointer, invalid flag) so that a call reaching the kernel
 * fails with something other than EPERM, while a call blocked by seccomp gives EPERM.
 *
 * Rows for syscalls an ABI lacks (uselib, iopl, ... on aarch64 or x32) are left out there.
 *
 * Build: cc -static -O2 -pthread -o probe probe.c   (also -m32; -mx32 builds but needs a
 * kernel with x32 enabled to run)
 * Usage: probe [--load-bpf FILE] [--mounts] [--syscalls] [--exit N] [--kill-self SIG]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_VERSION 1

/* The ABI this binary was built for (the kernel's view is `machine=`). */
#if defined(__x86_64__) && defined(__ILP32__)
#define PROBE_ABI "x32"
#elif defined(__x86_64__)
#define PROBE_ABI "x86_64"
#elif defined(__i386__)
#define PROBE_ABI "i386"
#elif defined(__aarch64__)
#define PROBE_ABI "aarch64"
#elif defined(__arm__)
#define PROBE_ABI "arm"
#else
#define PROBE_ABI "unknown"
#endif

/* x86_64 numbers of calls that glibc 2.36 headers may lack. */
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* Syscalls newer than Docker's profile: open_tree_attr (467) and a number not yet assigned. */
#define NR_OPEN_TREE_ATTR 467
#define NR_UNASSIGNED 470

#define AF_ALG_FAMILY 38
#define AF_VSOCK_FAMILY 40
#define HIGH_BITS 0x100000000L /* ignored by the kernel for int arguments (64-bit ABIs) */

/* ---------- output ---------- */

static void put_escaped(const char *text, size_t length) {
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\\') fputs("\\\\", stdout);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c >= 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
}

static void print_value(const char *key, const char *value) {
    printf("%s=", key);
    put_escaped(value, strlen(value));
    putchar('\n');
}

static const char *errno_name(int code) {
    const char *name = strerrorname_np(code);
    static char buffer[32];
    if (name) return name;
    snprintf(buffer, sizeof buffer, "E%d", code);
    return buffer;
}

static void print_error(const char *key, int code) {
    printf("%s=error:%s\n", key, errno_name(code));
}

/* ---------- identity ---------- */

/* Reads a small text file whole; returns its length or -errno. */
static ssize_t read_text(const char *path, char *buffer, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t count = read(fd, buffer + used, size - 1 - used);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) { int saved = errno; close(fd); return -saved; }
        if (count == 0) break;
        used += (size_t)count;
    }
    close(fd);
    buffer[used] = 0;
    return (ssize_t)used;
}

/* An id map as "inside outside count" lines, whitespace collapsed, joined by newlines. */
static void print_id_map(const char *key, const char *path) {
    char raw[8192], out[8192];
    ssize_t length = read_text(path, raw, sizeof raw);
    if (length < 0) { print_error(key, (int)-length); return; }
    size_t used = 0;
    int pending_space = 0, line_start = 1;
    for (ssize_t i = 0; i < length && used + 2 < sizeof out; i++) {
        char c = raw[i];
        if (c == ' ' || c == '\t') { if (!line_start) pending_space = 1; continue; }
        if (c == '\n') { pending_space = 0; if (!line_start) { out[used++] = '\n'; line_start = 1; } continue; }
        if (pending_space) { out[used++] = ' '; pending_space = 0; }
        out[used++] = c;
        line_start = 0;
    }
    while (used > 0 && out[used - 1] == '\n') used--;
    out[used] = 0;
    print_value(key, out);
}

static void print_status_fields(void) {
    static const char *fields[] = {
        "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", NULL,
    };
    char text[16384];
    ssize_t length = read_text("/proc/self/status", text, sizeof text);
    if (length < 0) { print_error("status", (int)-length); return; }
    for (int f = 0; fields[f]; f++) {
        size_t name_length = strlen(fields[f]);
        const char *line = text;
        const char *found = NULL;
        while (line && *line) {
            if (strncmp(line, fields[f], name_length) == 0 && line[name_length] == ':') { found = line; break; }
            line = strchr(line, '\n');
            if (line) line++;
        }
        if (!found) { printf("%s=absent\n", fields[f]); continue; }
        const char *value = found + name_length + 1;
        while (*value == ' ' || *value == '\t') value++;
        const char *end = strchr(value, '\n');
        size_t value_length = end ? (size_t)(end - value) : strlen(value);
        printf("%s=", fields[f]);
        put_escaped(value, value_length);
        putchar('\n');
    }
}

static void print_mounts(int list_lines) {
    FILE *file = fopen("/proc/self/mountinfo", "re");
    if (!file) { print_error("mounts", errno); return; }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    long count = 0;
    while ((length = getline(&line, &capacity, file)) >= 0) {
        if (length > 0 && line[length - 1] == '\n') line[--length] = 0;
        count++;
        if (list_lines) { fputs("mount=", stdout); put_escaped(line, (size_t)length); putchar('\n'); }
    }
    free(line);
    fclose(file);
    printf("mounts=%ld\n", count);
}

static void print_fds(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) { print_error("fds", errno); return; }
    int own = dirfd(dir);
    int fds[1024];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < 1024) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        if (fd != own) fds[count++] = fd;
    }
    closedir(dir);
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) { int t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t; }
    fputs("fds=", stdout);
    for (int i = 0; i < count; i++) printf(i ? ",%d" : "%d", fds[i]);
    putchar('\n');
    for (int i = 0; i < count; i++) {
        char path[64], target[PATH_MAX], key[32];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
        snprintf(key, sizeof key, "fd.%d", fds[i]);
        ssize_t length = readlink(path, target, sizeof target - 1);
        if (length < 0) { print_error(key, errno); continue; }
        target[length] = 0;
        print_value(key, target);
    }
}

static void print_identity(int list_mounts) {
    struct utsname names;
    if (uname(&names) == 0) { print_value("hostname", names.nodename); print_value("machine", names.machine); }
    else print_error("hostname", errno);
    printf("pid=%d\nppid=%d\n", (int)getpid(), (int)getppid());
    printf("uid=%u\neuid=%u\ngid=%u\negid=%u\n", getuid(), geteuid(), getgid(), getegid());
    gid_t groups[256];
    int group_count = getgroups(256, groups);
    fputs("groups=", stdout);
    for (int i = 0; i < group_count; i++) printf(i ? ",%u" : "%u", groups[i]);
    putchar('\n');
    print_id_map("uid_map", "/proc/self/uid_map");
    print_id_map("gid_map", "/proc/self/gid_map");
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) print_value("cwd", cwd);
    else print_error("cwd", errno);
    print_status_fields();
    print_mounts(list_mounts);
    print_fds();
}

/* ---------- seccomp loading ---------- */

static int load_bpf(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { print_error("bpf", errno); return -1; }
    static struct sock_filter program[BPF_MAXINSNS];
    size_t used = 0;
    for (;;) {
        ssize_t count = read(fd, (char *)program + used, sizeof program - used);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) { print_error("bpf", errno); close(fd); return -1; }
        if (count == 0) break;
        used += (size_t)count;
        if (used == sizeof program) break;
    }
    close(fd);
    if (used == 0 || used % sizeof(struct sock_filter) != 0) { print_error("bpf", EINVAL); return -1; }
    struct sock_fprog fprog = { .len = (unsigned short)(used / sizeof(struct sock_filter)), .filter = program };
    /* An unprivileged process may only install a filter with no_new_privs set. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { print_error("bpf", errno); return -1; }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
        if (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) {
            print_error("bpf", errno);
            return -1;
        }
    }
    printf("bpf=%u\n", fprog.len);
    return 0;
}

/* ---------- syscall rows ---------- */

typedef int (*row_fn)(void); /* returns 0 or an errno; runs in a forked child */

static int result_of(long rc) { return rc < 0 ? errno : 0; }

/* Reaps a child and turns its status into 0, an errno, or -signal. */
static int reap(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return errno;
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

static void print_row(const char *name, int result) {
    if (result == 0) printf("sys.%s=OK\n", name);
    else if (result < 0) printf("sys.%s=SIG%s\n", name, sigabbrev_np(-result) ? sigabbrev_np(-result) : "UNKNOWN");
    else printf("sys.%s=%s\n", name, errno_name(result));
}

static void run_row(const char *name, row_fn fn) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { printf("sys.%s=probe-error:fork:%s\n", name, errno_name(errno)); return; }
    if (pid == 0) _exit(fn());
    print_row(name, reap(pid));
}

/* Raw clone without a new stack behaves like fork: the child returns 0 and leaves at once. */
static int clone_with(unsigned long flags) {
    long rc = syscall(SYS_clone, flags | SIGCHLD, 0L, NULL, NULL, 0L);
    if (rc < 0) return errno;
    if (rc == 0) _exit(0);
    return reap((pid_t)rc);
}

static int row_mount(void) { return result_of(syscall(SYS_mount, "none", (char *)1, "tmpfs", 0L, NULL)); }
static int row_umount2(void) { return result_of(syscall(SYS_umount2, "/", 0x80000000L)); }
static int row_unshare_invalid(void) { return result_of(syscall(SYS_unshare, 0x1L)); }
static int row_unshare_userns(void) { return result_of(syscall(SYS_unshare, (long)CLONE_NEWUSER)); }
static int row_clone_newuser(void) { return clone_with(CLONE_NEWUSER); }
static int row_clone_newns(void) { return clone_with(CLONE_NEWNS); }
static int row_clone_plain(void) { return clone_with(0); }
static int row_clone3(void) { return result_of(syscall(SYS_clone3, NULL, 0L)); }
static int row_setns(void) { return result_of(syscall(SYS_setns, -1L, 0L)); }
static int row_keyctl(void) { return result_of(syscall(SYS_keyctl, 0x7fffffffL, 0L, 0L, 0L, 0L)); }
static int row_add_key(void) { return result_of(syscall(SYS_add_key, NULL, NULL, NULL, 0L, 0L)); }
static int row_request_key(void) { return result_of(syscall(SYS_request_key, NULL, NULL, NULL, 0L)); }
static int row_io_uring_setup(void) { return result_of(syscall(SYS_io_uring_setup, 0L, NULL)); }
static int row_io_uring_enter(void) { return result_of(syscall(SYS_io_uring_enter, -1L, 0L, 0L, 0L, NULL, 0L)); }
static int row_io_uring_register(void) { return result_of(syscall(SYS_io_uring_register, -1L, 0L, NULL, 0L)); }
static int row_bpf(void) { return result_of(syscall(SYS_bpf, -1L, NULL, 0L)); }
static int row_perf_event_open(void) { return result_of(syscall(SYS_perf_event_open, NULL, 0L, -1L, -1L, 0L)); }
static int row_userfaultfd(void) { return result_of(syscall(SYS_userfaultfd, 0xffffffffL)); }
static int row_open_by_handle_at(void) { return result_of(syscall(SYS_open_by_handle_at, -1L, NULL, 0L)); }
static int row_kexec_load(void) { return result_of(syscall(SYS_kexec_load, 0L, 0L, NULL, 0L)); }
static int row_init_module(void) { return result_of(syscall(SYS_init_module, NULL, 0L, NULL)); }
static int row_finit_module(void) { return result_of(syscall(SYS_finit_module, -1L, NULL, 0L)); }
static int row_reboot(void) { return result_of(syscall(SYS_reboot, 0L, 0L, 0L, NULL)); }
static int row_swapon(void) { return result_of(syscall(SYS_swapon, NULL, 0L)); }
static int row_swapoff(void) { return result_of(syscall(SYS_swapoff, NULL)); }
static int row_pivot_root(void) { return result_of(syscall(SYS_pivot_root, NULL, NULL)); }
static int row_acct(void) { return result_of(syscall(SYS_acct, NULL)); }
#ifdef SYS_iopl
static int row_iopl(void) { return result_of(syscall(SYS_iopl, 0L)); }
#endif
#ifdef SYS_ioperm
static int row_ioperm(void) { return result_of(syscall(SYS_ioperm, 0L, 0L, 0L)); }
#endif
/* A new session has no controlling terminal, so an allowed vhangup has nothing to hang up. */
static int row_vhangup(void) { setsid(); return result_of(syscall(SYS_vhangup)); }
static int row_settimeofday(void) { return result_of(syscall(SYS_settimeofday, NULL, NULL)); }
static int row_clock_settime(void) { return result_of(syscall(SYS_clock_settime, (long)CLOCK_REALTIME, NULL)); }
static int row_personality_bsd(void) { return result_of(syscall(SYS_personality, 0x0006L)); }
static int row_personality_query(void) { return result_of(syscall(SYS_personality, 0xffffffffL)); }
static int row_socket_vsock(void) { return result_of(syscall(SYS_socket, (long)AF_VSOCK_FAMILY, (long)SOCK_STREAM, 0L)); }
static int row_socket_alg(void) { return result_of(syscall(SYS_socket, (long)AF_ALG_FAMILY, (long)SOCK_SEQPACKET, 0L)); }
#if __SIZEOF_LONG__ == 8
/* The kernel truncates socket()'s int family, so these are AF_VSOCK / AF_ALG to it. */
static int row_socket_vsock_high(void) { return result_of(syscall(SYS_socket, HIGH_BITS | AF_VSOCK_FAMILY, (long)SOCK_STREAM, 0L)); }
static int row_socket_alg_high(void) { return result_of(syscall(SYS_socket, HIGH_BITS | AF_ALG_FAMILY, (long)SOCK_SEQPACKET, 0L)); }
#endif
static int row_socket_unix(void) { return result_of(syscall(SYS_socket, (long)AF_UNIX, (long)SOCK_STREAM, 0L)); }
static int row_socket_inet(void) { return result_of(syscall(SYS_socket, (long)AF_INET, (long)SOCK_STREAM, 0L)); }
static int row_move_pages(void) { return result_of(syscall(SYS_move_pages, 0L, 0L, NULL, NULL, NULL, 0L)); }
static int row_migrate_pages(void) { return result_of(syscall(SYS_migrate_pages, 0L, 0L, NULL, NULL)); }
static int row_get_mempolicy(void) { return result_of(syscall(SYS_get_mempolicy, NULL, NULL, 0L, NULL, 0L)); }
static int row_open_tree(void) { return result_of(syscall(SYS_open_tree, -1L, NULL, 0L)); }
static int row_fsopen(void) { return result_of(syscall(SYS_fsopen, NULL, 0L)); }
static int row_quotactl(void) { return result_of(syscall(SYS_quotactl, 0L, NULL, 0L, NULL)); }
static int row_lookup_dcookie(void) { return result_of(syscall(SYS_lookup_dcookie, 0L, NULL, 0L)); }
static int row_kcmp(void) { return result_of(syscall(SYS_kcmp, 0L, 0L, 0L, 0L, 0L)); }
static int row_pidfd_getfd(void) { return result_of(syscall(SYS_pidfd_getfd, -1L, 0L, 0L)); }
static int row_syslog(void) { return result_of(syscall(SYS_syslog, 3L, NULL, 0L)); }
#ifdef SYS_uselib
static int row_uselib(void) { return result_of(syscall(SYS_uselib, NULL)); }
#endif
#ifdef SYS_ustat
static int row_ustat(void) { return result_of(syscall(SYS_ustat, 0L, NULL)); }
#endif
#ifdef SYS_sysfs
static int row_sysfs(void) { return result_of(syscall(SYS_sysfs, 0L)); }
#endif
#ifdef SYS__sysctl
static int row_sysctl(void) { return result_of(syscall(SYS__sysctl, NULL)); }
#endif
#ifdef SYS_create_module
static int row_create_module(void) { return result_of(syscall(SYS_create_module, NULL, 0L)); }
#endif
#ifdef SYS_nfsservctl
static int row_nfsservctl(void) { return result_of(syscall(SYS_nfsservctl, 0L, NULL, NULL)); }
#endif
static int row_open_tree_attr(void) { return result_of(syscall(NR_OPEN_TREE_ATTR, -1L, NULL, 0L, NULL, 0L)); }
static int row_unassigned(void) { return result_of(syscall(NR_UNASSIGNED, 0L, 0L, 0L)); }
/* Allowed by the profile but newer than some libseccomp tables: invalid flags, so no effect. */
static int row_fchmodat2(void) { return result_of(syscall(SYS_fchmodat2, (long)AT_FDCWD, "/", 0L, 0xffffffffL)); }

static int row_fork(void) {
    pid_t pid = fork();
    if (pid < 0) return errno;
    if (pid == 0) _exit(0);
    return reap(pid);
}

static void *thread_body(void *arg) { return arg; }

static int row_pthread_create(void) {
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, thread_body, NULL);
    if (rc != 0) return rc;
    return pthread_join(thread, NULL);
}

static int row_ptrace_traceme(void) { return result_of(syscall(SYS_ptrace, (long)PTRACE_TRACEME, 0L, NULL, NULL)); }

static volatile long vm_marker = 0x5eccac;

static int row_process_vm_readv(void) {
    pid_t pid = fork();
    if (pid < 0) return errno;
    if (pid == 0) { for (;;) pause(); }
    long copy = 0;
    struct iovec local = { &copy, sizeof copy };
    struct iovec remote = { (void *)&vm_marker, sizeof vm_marker };
    long rc = syscall(SYS_process_vm_readv, (long)pid, &local, 1L, &remote, 1L, 0L);
    int result = rc < 0 ? errno : (copy == vm_marker ? 0 : EIO);
    kill(pid, SIGKILL);
    reap(pid);
    return result;
}

static int row_chroot(void) { return result_of(syscall(SYS_chroot, ".")); }
static int row_memfd_create(void) { return result_of(syscall(SYS_memfd_create, "probe", 1L /* MFD_CLOEXEC */)); }

static int row_statx(void) {
    char buffer[256];
    return result_of(syscall(SYS_statx, (long)AT_FDCWD, "/", 0L, 0x7ffL /* STATX_BASIC_STATS */, buffer));
}

static int row_faccessat2(void) { return result_of(syscall(SYS_faccessat2, (long)AT_FDCWD, "/", (long)F_OK, (long)AT_EACCESS)); }

static int row_openat2(void) {
    struct { uint64_t flags, mode, resolve; } how = { O_PATH | O_CLOEXEC, 0, 0 };
    return result_of(syscall(SYS_openat2, (long)AT_FDCWD, "/", &how, (long)sizeof how));
}

static int row_close_range(void) { return result_of(syscall(SYS_close_range, 1000L, 2000L, 0L)); }

static int row_name_to_handle_at(void) {
    struct { unsigned int bytes; int type; unsigned char handle[128]; } handle = { 128, 0, { 0 } };
    int mount_id;
    return result_of(syscall(SYS_name_to_handle_at, (long)AT_FDCWD, "/", &handle, &mount_id, 0L));
}

static int row_io_setup(void) {
    unsigned long context = 0;
    return result_of(syscall(SYS_io_setup, 1L, &context));
}

#if defined(__i386__)
/* A 32-bit program's own socketcall(2) (what Debian's i386 glibc uses for socket()). */
static int socketcall_row(int call, unsigned long *args) { return result_of(syscall(SYS_socketcall, call, args)); }
static int row_socketcall_vsock(void) { unsigned long args[3] = { AF_VSOCK_FAMILY, SOCK_STREAM, 0 }; return socketcall_row(1, args); }
static int row_socketcall_inet(void) { unsigned long args[3] = { AF_INET, SOCK_STREAM, 0 }; return socketcall_row(1, args); }
static int row_socketcall_socketpair(void) {
    int pair[2];
    unsigned long args[4] = { AF_UNIX, SOCK_STREAM, 0, (unsigned long)pair };
    return socketcall_row(8, args);
}
#endif

#if defined(__x86_64__) && !defined(__ILP32__)
/* The i386 entry from a 64-bit process: seccomp sees AUDIT_ARCH_I386 and i386 numbers. */
static int int80(long nr, long a, long b, long c, long d, long e) {
    long ret;
    register long r_esi __asm__("rsi") = d;
    register long r_edi __asm__("rdi") = e;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c), "r"(r_esi), "r"(r_edi)
                     : "memory", "r8", "r9", "r10", "r11");
    int value = (int)ret;
    return value < 0 && value > -4096 ? -value : 0;
}

static int row_i386_keyctl(void) { return int80(288, 0x7fffffffL, 0, 0, 0, 0); }
static int row_i386_unshare(void) { return int80(310, 0x1L, 0, 0, 0, 0); }
static int row_i386_mount(void) { return int80(21, 0, 1, 0, 0, 0); }
static int row_i386_clone3(void) { return int80(435, 0, 0, 0, 0, 0); }
static int row_i386_unassigned(void) { return int80(NR_UNASSIGNED, 0, 0, 0, 0, 0); }
static int row_i386_getpid(void) { return int80(20, 0, 0, 0, 0, 0); }
/* socketcall(SYS_SOCKET, {family, type, 0}): the family sits in memory, out of seccomp's
 * reach, so the filter refuses SYS_SOCKET whatever the family; other calls pass. */
static unsigned int socketcall_vsock_args[3] = { AF_VSOCK_FAMILY, SOCK_STREAM, 0 };
static unsigned int socketcall_inet_args[3] = { AF_INET, SOCK_STREAM, 0 };
static int row_i386_socketcall_vsock(void) { return int80(102, 1, (long)(uintptr_t)socketcall_vsock_args, 0, 0, 0); }
static int row_i386_socketcall_inet(void) { return int80(102, 1, (long)(uintptr_t)socketcall_inet_args, 0, 0, 0); }
/* socketcall(SYS_SOCKETPAIR, {AF_UNIX, SOCK_STREAM, 0, sv}) */
static int i386_pair[2];
static unsigned int socketcall_pair_args[4];
static int row_i386_socketcall_socketpair(void) {
    socketcall_pair_args[0] = AF_UNIX;
    socketcall_pair_args[1] = SOCK_STREAM;
    socketcall_pair_args[3] = (unsigned int)(uintptr_t)i386_pair;
    if ((uintptr_t)i386_pair > 0xffffffffu) return EFAULT;  /* not addressable from the i386 ABI */
    return int80(102, 8, (long)(uintptr_t)socketcall_pair_args, 0, 0, 0);
}
/* The direct i386 socket(2), 359: the same family rules as x86_64's. */
static int row_i386_socket_vsock(void) { return int80(359, AF_VSOCK_FAMILY, SOCK_STREAM, 0, 0, 0); }
static int row_i386_socket_inet(void) { return int80(359, AF_INET, SOCK_STREAM, 0, 0, 0); }

/* x32 numbers carry bit 30; seccomp sees AUDIT_ARCH_X86_64 with that bit set. */
#define X32_BIT 0x40000000L
static int row_x32_keyctl(void) { return result_of(syscall(X32_BIT | 250, 0x7fffffffL, 0L, 0L, 0L, 0L)); }
static int row_x32_getpid(void) { return result_of(syscall(X32_BIT | 39)); }
static int row_x32_unassigned(void) { return result_of(syscall(X32_BIT | NR_UNASSIGNED)); }
#endif

struct row { const char *name; row_fn fn; };

static const struct row rows[] = {
    { "mount", row_mount },                          /* 1 */
    { "umount2", row_umount2 },                      /* 2 */
    { "unshare", row_unshare_invalid },              /* 3 */
    { "unshare_userns", row_unshare_userns },
    { "clone_newuser", row_clone_newuser },          /* 4 */
    { "clone_newns", row_clone_newns },
    { "clone", row_clone_plain },
    { "clone3", row_clone3 },                        /* 5 */
    { "setns", row_setns },                          /* 6 */
    { "keyctl", row_keyctl },                        /* 7 */
    { "add_key", row_add_key },                      /* 8 */
    { "request_key", row_request_key },
    { "io_uring_setup", row_io_uring_setup },        /* 9 */
    { "io_uring_enter", row_io_uring_enter },
    { "io_uring_register", row_io_uring_register },
    { "bpf", row_bpf },                              /* 10 */
    { "perf_event_open", row_perf_event_open },      /* 11 */
    { "userfaultfd", row_userfaultfd },              /* 12 */
    { "open_by_handle_at", row_open_by_handle_at },  /* 13 */
    { "kexec_load", row_kexec_load },                /* 14 */
    { "init_module", row_init_module },
    { "finit_module", row_finit_module },
    { "reboot", row_reboot },
    { "swapon", row_swapon },
    { "swapoff", row_swapoff },
    { "pivot_root", row_pivot_root },
    { "acct", row_acct },
#ifdef SYS_iopl
    { "iopl", row_iopl },
#endif
#ifdef SYS_ioperm
    { "ioperm", row_ioperm },
#endif
    { "vhangup", row_vhangup },
    { "settimeofday", row_settimeofday },            /* 15 */
    { "clock_settime", row_clock_settime },          /* 16 */
    { "personality_bsd", row_personality_bsd },      /* 17 */
    { "personality_query", row_personality_query },
    { "socket_vsock", row_socket_vsock },            /* 18 */
    { "socket_alg", row_socket_alg },
#if __SIZEOF_LONG__ == 8
    { "socket_vsock_high", row_socket_vsock_high },
    { "socket_alg_high", row_socket_alg_high },
#endif
    { "socket_unix", row_socket_unix },
    { "socket_inet", row_socket_inet },
    { "move_pages", row_move_pages },                /* 19 */
    { "migrate_pages", row_migrate_pages },
    { "get_mempolicy", row_get_mempolicy },          /* 20 */
    { "open_tree", row_open_tree },                  /* 21 */
    { "fsopen", row_fsopen },
    { "quotactl", row_quotactl },                    /* 22 */
    { "lookup_dcookie", row_lookup_dcookie },
    { "kcmp", row_kcmp },                            /* 23 */
    { "pidfd_getfd", row_pidfd_getfd },
    { "syslog", row_syslog },                        /* 24 */
#ifdef SYS_uselib
    { "uselib", row_uselib },                        /* 25 */
#endif
#ifdef SYS_ustat
    { "ustat", row_ustat },
#endif
#ifdef SYS_sysfs
    { "sysfs", row_sysfs },
#endif
#ifdef SYS__sysctl
    { "_sysctl", row_sysctl },
#endif
#ifdef SYS_create_module
    { "create_module", row_create_module },
#endif
#ifdef SYS_nfsservctl
    { "nfsservctl", row_nfsservctl },
#endif
    { "open_tree_attr", row_open_tree_attr },        /* 26 */
    { "nr470", row_unassigned },
    { "fchmodat2", row_fchmodat2 },
    { "fork", row_fork },                            /* 27 */
    { "pthread_create", row_pthread_create },
    { "ptrace_traceme", row_ptrace_traceme },
    { "process_vm_readv", row_process_vm_readv },
    { "chroot", row_chroot },
    { "memfd_create", row_memfd_create },
    { "statx", row_statx },
    { "faccessat2", row_faccessat2 },
    { "openat2", row_openat2 },
    { "close_range", row_close_range },
    { "name_to_handle_at", row_name_to_handle_at },
    { "io_setup", row_io_setup },
#if defined(__i386__)
    { "socketcall_vsock", row_socketcall_vsock },    /* 18, i386 build only */
    { "socketcall_inet", row_socketcall_inet },
    { "socketcall_socketpair", row_socketcall_socketpair },
#endif
#if defined(__x86_64__) && !defined(__ILP32__)
    { "i386.keyctl", row_i386_keyctl },              /* 28 */
    { "i386.unshare", row_i386_unshare },
    { "i386.mount", row_i386_mount },
    { "i386.clone3", row_i386_clone3 },
    { "i386.nr470", row_i386_unassigned },
    { "i386.getpid", row_i386_getpid },
    { "i386.socketcall_vsock", row_i386_socketcall_vsock },
    { "i386.socketcall_inet", row_i386_socketcall_inet },
    { "i386.socketcall_socketpair", row_i386_socketcall_socketpair },
    { "i386.socket_vsock", row_i386_socket_vsock },
    { "i386.socket_inet", row_i386_socket_inet },
    { "x32.keyctl", row_x32_keyctl },
    { "x32.getpid", row_x32_getpid },
    { "x32.nr470", row_x32_unassigned },
#endif
    { NULL, NULL },
};

/* ---------- main ---------- */

static int parse_signal(const char *text) {
    if (strncmp(text, "SIG", 3) == 0) text += 3;
    char *end;
    long number = strtol(text, &end, 10);
    if (*text && !*end) return number > 0 && number < NSIG ? (int)number : -1;
    for (int sig = 1; sig < NSIG; sig++) {
        const char *name = sigabbrev_np(sig);
        if (name && strcmp(name, text) == 0) return sig;
    }
    return -1;
}

static void usage(void) {
    fputs("usage: probe [--load-bpf FILE] [--mounts] [--syscalls] [--exit N] [--kill-self SIG]\n", stderr);
    exit(64);
}

int main(int argc, char **argv) {
    const char *bpf_path = NULL;
    int list_mounts = 0, syscalls = 0, exit_code = 0, kill_signal = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "--load-bpf") == 0 && has_value) bpf_path = argv[++i];
        else if (strcmp(arg, "--mounts") == 0) list_mounts = 1;
        else if (strcmp(arg, "--syscalls") == 0) syscalls = 1;
        else if (strcmp(arg, "--exit") == 0 && has_value) exit_code = atoi(argv[++i]);
        else if (strcmp(arg, "--kill-self") == 0 && has_value) {
            kill_signal = parse_signal(argv[++i]);
            if (kill_signal < 0) usage();
        } else usage();
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("probe.version=%d\nabi=%s\n", PROBE_VERSION, PROBE_ABI);
    if (bpf_path && load_bpf(bpf_path) != 0) return 2;
    print_identity(list_mounts);
    if (syscalls)
        for (const struct row *row = rows; row->name; row++) run_row(row->name, row->fn);
    printf("probe.done=1\n");
    fflush(stdout);
    if (kill_signal) {
        signal(kill_signal, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, kill_signal);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        kill(getpid(), kill_signal);
    }
    return exit_code;
}
