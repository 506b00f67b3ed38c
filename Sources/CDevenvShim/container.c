#define _GNU_SOURCE
#include "devenv_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sched.h>

/* <linux/mount.h> clashes with glibc 2.36's <sys/mount.h>, so the new mount API constants
   are spelled out here. */
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SYS_move_mount 429
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define DEVENV_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args of Linux 5.7 (CLONE_INTO_CGROUP), spelled out for older headers. */
struct devenv_clone_args {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* ---- Spawning the container's init ---------------------------------------------------- */

/* Appends a C string to a fixed buffer; async-signal-safe (no allocation, no locale). */
static size_t append(char *buffer, size_t used, size_t size, const char *text) {
    while (text && *text && used + 1 < size) buffer[used++] = *text++;
    return used;
}

/* Reports `stage object: description (ERRNO)` and exits; runs in the cloned child where only
   async-signal-safe calls are allowed (the parent is multi-threaded). */
static void child_fail(int fd, const char *stage, const char *object, int error) {
    char line[1024];
    size_t used = append(line, 0, sizeof line, "setup ");
    used = append(line, used, sizeof line, stage);
    if (object) {
        used = append(line, used, sizeof line, " ");
        used = append(line, used, sizeof line, object);
    }
    used = append(line, used, sizeof line, ": ");
    used = append(line, used, sizeof line, strerrordesc_np(error));
    used = append(line, used, sizeof line, " (");
    used = append(line, used, sizeof line, strerrorname_np(error));
    used = append(line, used, sizeof line, ")\n");
    if (fd >= 0) (void)!write(fd, line, used);
    _exit(DEVENV_INIT_SETUP_FAILED);
}

static void reset_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < _NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        (void)sigaction(signal_number, &action, NULL); /* glibc-internal signals fail harmlessly */
    }
    sigset_t empty;
    sigemptyset(&empty);
    (void)sigprocmask(SIG_SETMASK, &empty, NULL);
}

/* Places stdio[] at 0, 1, 2 (-1 keeps the current one) and fds[] at 3, 4, ... without clobbering
   each other: first copies above every target, then down; everything else is closed. */
static int place_fds(const int stdio[3], const int *fds, int count) {
    int sources[19], targets[19], total = 0;
    if (count > 16) return -1;
    for (int index = 0; index < 3; index++) {
        if (stdio[index] >= 0) {
            sources[total] = stdio[index];
            targets[total++] = index;
        }
    }
    for (int index = 0; index < count; index++) {
        sources[total] = fds[index];
        targets[total++] = 3 + index;
    }
    for (int index = 0; index < total; index++) {
        sources[index] = fcntl(sources[index], F_DUPFD_CLOEXEC, 3 + count);
        if (sources[index] < 0) return -1;
    }
    for (int index = 0; index < total; index++) {
        if (dup2(sources[index], targets[index]) < 0) return -1; /* dup2 clears FD_CLOEXEC on the copy */
    }
    return (int)syscall(SYS_close_range, 3 + count, ~0U, 0);
}

/* Whether the parent has closed its read end of the error pipe (it died): a write end
   without readers polls as POLLERR. */
static int parent_gone(int error_fd) {
    struct pollfd lifeline = { .fd = error_fd, .events = POLLOUT };
    return poll(&lifeline, 1, 0) == 1 && (lifeline.revents & POLLERR);
}

/* Returns only without a path (init continues in this process); otherwise execs or exits. */
static void run_child(const struct devenv_spawn *spawn) {
    for (int index = 0; index < spawn->nparent_fds; index++) close(spawn->parent_fds[index]);
    reset_signals();
    /* Armed before the wait for the id maps: a parent killed before it writes the go byte
       would leave this copy waiting (with every descriptor it inherited, locks included) if
       another process still held the parent's end of sync_fd. Re-armed after setres*id. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(spawn->error_fd, "prctl", "PR_SET_PDEATHSIG", errno);
    /* A parent killed between clone and the prctl above sends no signal: its read end of the
       error pipe is gone then (this copy closed its own above), which is how this copy tells.
       A gc killed at that moment left one waiting forever on the go byte, holding the store's
       gc lock. */
    if (parent_gone(spawn->error_fd)) _exit(DEVENV_INIT_SETUP_FAILED);
    /* Before anything else, so every process of the container starts inside its cgroup. */
    for (int index = 0; index < spawn->ncgroup_task_fds; index++) {
        if (write(spawn->cgroup_task_fds[index], "0", 1) != 1) child_fail(spawn->error_fd, "join", "cgroup", errno);
    }
    if (spawn->sync_fd >= 0) {
        char go = 0;
        ssize_t count;
        do {
            count = read(spawn->sync_fd, &go, 1);
        } while (count < 0 && errno == EINTR);
        if (count != 1) _exit(DEVENV_INIT_SETUP_FAILED); /* the parent gave up (id maps failed) */
    }

    if (spawn->become_root) {
        /* Raw syscalls: glibc's set*id would try to signal the parent's other threads. */
        if (syscall(SYS_setresgid, 0, 0, 0) != 0) child_fail(spawn->error_fd, "setresgid", "0", errno);
        if (syscall(SYS_setresuid, 0, 0, 0) != 0) child_fail(spawn->error_fd, "setresuid", "0", errno);
    }
    /* Set after the credential change, which would clear it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(spawn->error_fd, "prctl", "PR_SET_PDEATHSIG", errno);
    /* The parent may have died before PDEATHSIG was armed again. */
    if (parent_gone(spawn->error_fd)) _exit(DEVENV_INIT_SETUP_FAILED);
    if (setsid() < 0) child_fail(spawn->error_fd, "setsid", NULL, errno);
    if (chdir("/") != 0) child_fail(spawn->error_fd, "chdir", "/", errno);
    if (place_fds(spawn->stdio, spawn->fds, spawn->nfds) != 0) child_fail(spawn->error_fd, "pass descriptors to", "init", errno);
    if (spawn->path == NULL) {
        /* Init runs in this copy of a single-threaded parent; it starts from an empty
           environment, as an exec'd init would. */
        (void)clearenv();
        return;
    }
    execve(spawn->path, spawn->argv, spawn->envp);
    /* error_fd was moved by place_fds; its new number is given by the caller. */
    child_fail(spawn->error_fd_after_exec, "exec init", spawn->path, errno);
}

static long clone_into_cgroup(unsigned long flags, int cgroup_fd, int *pidfd) {
    struct devenv_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = (uint64_t)flags | CLONE_PIDFD | DEVENV_CLONE_INTO_CGROUP;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    return syscall(SYS_clone3, &args, sizeof args);
}

static long spawn_direct(struct devenv_spawn *spawn, unsigned long extra_flags, int *descriptor) {
    long pid = -1;
    spawn->cgroup_joined = spawn->cgroup_dir_fd < 0;
    if (spawn->cgroup_dir_fd >= 0) {
        pid = clone_into_cgroup(spawn->clone_flags | extra_flags, spawn->cgroup_dir_fd, descriptor);
        if (pid >= 0) spawn->cgroup_joined = 1;
        else if (errno != ENOSYS && errno != E2BIG) return -1;
    }
    if (pid < 0) pid = syscall(SYS_clone, (unsigned long)(spawn->clone_flags | extra_flags | CLONE_PIDFD | SIGCHLD), NULL, descriptor, NULL, 0);
    return pid;
}

/* What the intermediate child of a joining spawn sends back: init's pid (or -errno). */
struct join_answer {
    long pid;
    int cgroup_joined;
};

/* In the intermediate child: join the namespaces, clone init as the caller's child (its pidfd
   goes back over `answer_fd`), and exit. Only async-signal-safe calls. */
static void join_and_clone(struct devenv_spawn *spawn, int answer_fd) {
    struct join_answer answer = { .pid = -1, .cgroup_joined = 1 };
    int descriptor = -1;
    if (spawn->join_user_fd >= 0 && setns(spawn->join_user_fd, CLONE_NEWUSER) != 0) answer.pid = -errno;
    else if (spawn->join_net_fd >= 0 && setns(spawn->join_net_fd, CLONE_NEWNET) != 0) answer.pid = -errno;
    else {
        /* This child already started in the cgroup: init inherits it. */
        long pid = syscall(SYS_clone, (unsigned long)(spawn->clone_flags | CLONE_PARENT | CLONE_PIDFD | SIGCHLD), NULL, &descriptor, NULL, 0);
        if (pid == 0) {
            run_child(spawn);
            _exit(DEVENV_INIT_SETUP_FAILED);
        }
        answer.pid = pid < 0 ? -errno : pid;
    }
    struct iovec data = { .iov_base = &answer, .iov_len = sizeof answer };
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr message = { .msg_iov = &data, .msg_iovlen = 1 };
    if (descriptor >= 0) {
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(header), &descriptor, sizeof(int));
    }
    _exit(sendmsg(answer_fd, &message, MSG_NOSIGNAL) == (ssize_t)sizeof answer ? 0 : 1);
}

/* A spawn that joins namespaces first (`join_user_fd`, `join_net_fd`): setns needs a
   single-threaded caller, so a short-lived child joins and clones init with CLONE_PARENT. */
static pid_t spawn_joining(struct devenv_spawn *spawn, int *pidfd) {
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) return -1;
    struct devenv_spawn intermediate = *spawn;
    intermediate.clone_flags = 0;
    int intermediate_fd = -1;
    long middle = spawn_direct(&intermediate, 0, &intermediate_fd);
    if (middle == 0) {
        close(ends[0]);
        spawn->cgroup_joined = intermediate.cgroup_joined;
        join_and_clone(spawn, ends[1]);
    }
    int saved = errno;
    close(ends[1]);
    if (middle < 0) {
        close(ends[0]);
        errno = saved;
        return -1;
    }
    struct join_answer answer = { .pid = -EPROTO };
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec data = { .iov_base = &answer, .iov_len = sizeof answer };
    struct msghdr message = { .msg_iov = &data, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t count;
    do {
        count = recvmsg(ends[0], &message, MSG_CMSG_CLOEXEC);
    } while (count < 0 && errno == EINTR);
    close(ends[0]);
    int status;
    while (waitpid((pid_t)middle, &status, __WALL) < 0 && errno == EINTR) {}
    close(intermediate_fd);
    int descriptor = -1;
    struct cmsghdr *header = count == (ssize_t)sizeof answer ? CMSG_FIRSTHDR(&message) : NULL;
    if (header != NULL && header->cmsg_type == SCM_RIGHTS) memcpy(&descriptor, CMSG_DATA(header), sizeof(int));
    if (count != (ssize_t)sizeof answer || answer.pid <= 0 || descriptor < 0) {
        if (descriptor >= 0) close(descriptor);
        errno = answer.pid < 0 ? (int)-answer.pid : EPROTO;
        return -1;
    }
    spawn->cgroup_joined = intermediate.cgroup_joined;
    *pidfd = descriptor;
    return (pid_t)answer.pid;
}

pid_t devenv_spawn_container(struct devenv_spawn *spawn, int *pidfd) {
    if (spawn->join_user_fd >= 0 || spawn->join_net_fd >= 0) {
        if (spawn->path == NULL) {
            errno = EINVAL;
            return -1;
        }
        return spawn_joining(spawn, pidfd);
    }
    int descriptor = -1;
    long pid = spawn_direct(spawn, 0, &descriptor);
    if (pid < 0) return -1;
    if (pid == 0) {
        run_child(spawn);
        if (spawn->path == NULL) return 0;
        _exit(DEVENV_INIT_SETUP_FAILED);
    }
    *pidfd = descriptor;
    return (pid_t)pid;
}

/* ---- Mount helpers ------------------------------------------------------------------------ */

int devenv_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data) {
    return mount(source, target, fstype, flags, data);
}

int devenv_umount2(const char *target, int flags) { return umount2(target, flags); }

int devenv_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

struct devenv_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

int devenv_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr) {
    struct devenv_mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attr_set;
    attr.attr_clr = attr_clr;
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr);
}

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#define DEVENV_OPEN_TREE_CLONE 1
#define DEVENV_MOUNT_ATTR_IDMAP 0x00100000
#define DEVENV_MOVE_MOUNT_F_EMPTY_PATH_ 0x00000004
#define DEVENV_MOVE_MOUNT_T_EMPTY_PATH 0x00000040

int devenv_bind_idmapped(int fd, int target_fd, uint64_t attr_set, int userns_fd) {
    int tree = (int)syscall(SYS_open_tree, fd, "", DEVENV_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0) return -1;
    struct devenv_mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attr_set | DEVENV_MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)userns_fd;
    int result = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
    if (result == 0) {
        result = (int)syscall(SYS_move_mount, tree, "", target_fd, "", DEVENV_MOVE_MOUNT_F_EMPTY_PATH_ | DEVENV_MOVE_MOUNT_T_EMPTY_PATH);
    }
    int saved = errno;
    close(tree);
    errno = saved;
    return result;
}

/* "/proc/<pid><suffix>" into path (size >= 64). */
static void proc_path(char *path, size_t size, long pid, const char *suffix) {
    char digits[24];
    int count = 0;
    for (long rest = pid; rest > 0 && count < 20; rest /= 10) digits[count++] = (char)('0' + rest % 10);
    size_t used = append(path, 0, size, "/proc/");
    while (count > 0 && used + 1 < size) path[used++] = digits[--count];
    used = append(path, used, size, suffix);
    path[used] = 0;
}

static int write_map(long pid, const char *file, const char *map) {
    char path[64];
    proc_path(path, sizeof path, pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(map);
    ssize_t written = write(fd, map, length);
    int saved = errno;
    close(fd);
    errno = saved;
    return written == (ssize_t)length ? 0 : -1;
}

/* The namespace's holder shares devenv's memory and descriptor table (CLONE_VM | CLONE_FILES:
   no page tables to copy, which for a large executable is most of a fork) and runs on its
   own small stack. It only blocks in read(2) until the parent closes the pipe's write end,
   through raw syscalls that leave errno alone. */
static int hold_namespace(void *argument) {
    int fd = *(const int *)argument;
    char byte;
    (void)syscall(SYS_read, fd, &byte, 1);
    syscall(SYS_exit, 0);
    return 0;
}

int devenv_userns_with_maps(const char *uid_map, const char *gid_map) {
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) != 0) return -1;
    static _Thread_local char stack[16384] __attribute__((aligned(16)));
    int pid = clone(hold_namespace, stack + sizeof stack, CLONE_NEWUSER | CLONE_VM | CLONE_FILES | SIGCHLD, &hold[0]);
    int saved = errno;
    int result = -1;
    if (pid > 0) {
        char path[64];
        proc_path(path, sizeof path, pid, "/ns/user");
        if (write_map(pid, "/uid_map", uid_map) == 0 && write_map(pid, "/gid_map", gid_map) == 0) {
            result = open(path, O_RDONLY | O_CLOEXEC);
        }
        saved = errno;
    }
    close(hold[1]); /* the shared table's only write end: the holder's read sees EOF */
    close(hold[0]);
    if (pid > 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    errno = saved;
    return result;
}

/* The probe's child: gone at once, through the raw syscall (it shares the caller's memory). */
static int exit_at_once(void *unused) {
    (void)unused;
    syscall(SYS_exit, 0);
    return 0;
}

int devenv_userns_probe(void) {
    /* On this frame: the caller waits below it while the child runs on it (no static TLS in
       every thread of every devenv process for a probe run once). */
    char stack[16384] __attribute__((aligned(16)));
    /* clone(2), as devenv's containers are made (a filter may treat unshare(2) alike or not). */
    int pid = clone(exit_at_once, stack + sizeof stack, CLONE_NEWUSER | CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
    if (pid < 0) return errno;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return 0;
}

int devenv_fsopen(const char *fsname, unsigned int flags) { return (int)syscall(SYS_fsopen, fsname, flags); }

int devenv_fsconfig_string(int fd, const char *key, const char *value) {
    return (int)syscall(SYS_fsconfig, fd, 1 /* FSCONFIG_SET_STRING */, key, value, 0);
}

int devenv_fsconfig_flag(int fd, const char *key) {
    return (int)syscall(SYS_fsconfig, fd, 0 /* FSCONFIG_SET_FLAG */, key, NULL, 0);
}

int devenv_fsconfig_create(int fd) {
    return (int)syscall(SYS_fsconfig, fd, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0);
}

int devenv_fsmount(int fd, unsigned int flags, unsigned int attrs) { return (int)syscall(SYS_fsmount, fd, flags, attrs); }

int devenv_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags) {
    return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

/* ---- Process state ------------------------------------------------------------------------ */

int devenv_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
    return prctl(option, arg2, arg3, arg4, arg5);
}

int devenv_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable;
    data[1].inheritable = (uint32_t)(inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

int devenv_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    *effective = ((uint64_t)data[1].effective << 32) | data[0].effective;
    *permitted = ((uint64_t)data[1].permitted << 32) | data[0].permitted;
    *inheritable = ((uint64_t)data[1].inheritable << 32) | data[0].inheritable;
    return 0;
}

int devenv_clear_ambient_capabilities(void) {
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

int devenv_setgroups(size_t count, const gid_t *groups) { return setgroups(count, groups); }
int devenv_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int devenv_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }

int devenv_sethostname(const char *name, size_t length) { return sethostname(name, length); }

int devenv_exec_sealed(const char *path, char *const argv[], char *const envp[], const void *filter, unsigned short instructions) {
    if (filter && instructions > 0) {
        struct sock_fprog program = { .len = instructions, .filter = (struct sock_filter *)filter };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) return -1;
    }
    execve(path, argv, envp);
    return -1;
}

int devenv_exec_descriptor(int fd, char *const argv[], char *const envp[]) {
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    return -1;
}

/* ---- Descriptors, sockets, ioctls --------------------------------------------------------- */

int devenv_send_fd(int socket_fd, int fd) {
    char byte = 'm';
    struct iovec vector = { .iov_base = &byte, .iov_len = 1 };
    union {
        struct cmsghdr header;
        char buffer[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = { .msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    ssize_t sent;
    do {
        sent = sendmsg(socket_fd, &message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == 1 ? 0 : -1;
}

int devenv_recv_fd(int socket_fd) {
    char byte = 0;
    struct iovec vector = { .iov_base = &byte, .iov_len = 1 };
    union {
        struct cmsghdr header;
        char buffer[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = { .msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer };
    ssize_t received;
    do {
        received = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return -1;
    if (received == 0) {
        errno = ECONNRESET;
        return -1;
    }
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
        errno = EBADMSG;
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof(int));
    return fd;
}

int devenv_ioctl_int(int fd, unsigned long request, int argument) { return ioctl(fd, request, argument); }

long long devenv_statfs_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long long)info.f_type;
}

long devenv_getxattr_size(const char *path, const char *name) { return (long)getxattr(path, name, NULL, 0); }

int devenv_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int devenv_socketpair_cloexec(int fds[2]) { return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }

int devenv_loopback_up(void) {
    int socket_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (socket_fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int result = ioctl(socket_fd, SIOCGIFFLAGS, &request);
    if (result == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        result = ioctl(socket_fd, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(socket_fd);
    errno = saved;
    return result;
}

int devenv_pidfd_send_signal(int pidfd, int signal_number) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal_number, NULL, 0);
}

/* ---- Signal relay ------------------------------------------------------------------------- */

/* Signals arrive on any thread of the multi-threaded parent; the handler only writes the signal
   number to every registered pipe, and each container supervisor reads its own pipe. */
#define RELAY_SLOTS 64
static _Atomic int relay_fds[RELAY_SLOTS]; /* fd + 1, so the zero-initialised table is empty */

static void relay_handler(int signal_number) {
    int saved = errno;
    unsigned char byte = (unsigned char)signal_number;
    for (int index = 0; index < RELAY_SLOTS; index++) {
        int stored = atomic_load(&relay_fds[index]);
        if (stored > 0) (void)!write(stored - 1, &byte, 1);
    }
    errno = saved;
}

int devenv_relay_register(int write_fd) {
    for (int index = 0; index < RELAY_SLOTS; index++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&relay_fds[index], &expected, write_fd + 1)) return index;
    }
    errno = EMFILE;
    return -1;
}

void devenv_relay_unregister(int slot) {
    if (slot >= 0 && slot < RELAY_SLOTS) atomic_store(&relay_fds[slot], 0);
}

int devenv_relay_install(int signal_number, struct sigaction *previous) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = relay_handler;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);
    return sigaction(signal_number, &action, previous);
}

int devenv_signal_restore(int signal_number, const struct sigaction *previous) {
    return sigaction(signal_number, previous, NULL);
}

int devenv_signal_ignore(int signal_number, struct sigaction *previous) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    return sigaction(signal_number, &action, previous);
}

void devenv_signal_defaults(void) { reset_signals(); }

int devenv_thread_count(void) {
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buffer[4096];
    ssize_t count = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (count <= 0) return -1;
    buffer[count] = 0;
    const char *line = strstr(buffer, "\nThreads:");
    if (!line) return -1;
    line += strlen("\nThreads:");
    while (*line == ' ' || *line == '\t') line++;
    int threads = 0;
    while (*line >= '0' && *line <= '9') threads = threads * 10 + (*line++ - '0');
    return threads;
}
