#ifndef DEVENV_SHIM_H
#define DEVENV_SHIM_H

#include <stdint.h>
#include <sys/types.h>

/* Raw syscall wrappers glibc 2.36 lacks or Swift cannot call (variadic, struct-by-value). */

/* openat2(2) with RESOLVE_* flags: RESOLVE_IN_ROOT gives chroot-like resolution below dirfd. */
int devenv_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

#define DEVENV_RESOLVE_NO_XDEV       0x01
#define DEVENV_RESOLVE_NO_MAGICLINKS 0x02
#define DEVENV_RESOLVE_NO_SYMLINKS   0x04
#define DEVENV_RESOLVE_BENEATH       0x08
#define DEVENV_RESOLVE_IN_ROOT       0x10

/* close_range(2); flags may be CLOSE_RANGE_CLOEXEC (4). */
int devenv_close_range(unsigned int first, unsigned int last, unsigned int flags);

/* Variadic or macro-only libc calls. */
int devenv_open(const char *path, int flags, mode_t mode);
int devenv_openat(int dirfd, const char *path, int flags, mode_t mode);
int devenv_fcntl_int(int fd, int cmd, int arg);
int devenv_ioctl_ptr(int fd, unsigned long request, void *arg);
int devenv_errno(void);

/* Device numbers (macros in glibc). */
dev_t devenv_makedev(unsigned int major, unsigned int minor);
unsigned int devenv_major(dev_t dev);
unsigned int devenv_minor(dev_t dev);

/* memfd_create(2) (needs _GNU_SOURCE, which Swift's Glibc module lacks); flags as MFD_*. */
int devenv_memfd_create(const char *name, unsigned int flags);
#define DEVENV_MFD_CLOEXEC 0x0001U

/* Extended attributes (fd-based, and l* for "/proc/self/fd/N/name" paths of nodes that
 * cannot be opened: symlinks, devices, FIFOs) and syncfs(2). */
ssize_t devenv_flistxattr(int fd, char *list, size_t size);
ssize_t devenv_fgetxattr(int fd, const char *name, void *value, size_t size);
int devenv_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
ssize_t devenv_llistxattr(const char *path, char *list, size_t size);
ssize_t devenv_lgetxattr(const char *path, const char *name, void *value, size_t size);
int devenv_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
int devenv_fremovexattr(int fd, const char *name);
int devenv_lremovexattr(const char *path, const char *name);
int devenv_syncfs(int fd);

/* ---- Container runtime (container.c) ---- */

#include <signal.h>
#include <stddef.h>

/* Exit status of the cloned child and of `devenv __init` when setup fails before the command runs. */
#define DEVENV_INIT_SETUP_FAILED 127

/* clone(2)s a child in new namespaces that waits for one byte on sync_fd unless it is -1 (the
   parent writes the id maps first), optionally becomes uid/gid 0 of its user namespace, arms PDEATHSIG, starts a
   session, moves stdio[] to 0-2 (-1 keeps one) and fds[] to 3, 4, ... (closing everything
   else) and execs path. Pre-exec failures
   are written to error_fd as "setup stage: message (ERRNO)". Returns the pid and a pidfd. */
struct devenv_spawn {
    unsigned long clone_flags;
    const char *path;
    char *const *argv;
    char *const *envp;
    int sync_fd;
    int error_fd;
    int error_fd_after_exec;
    int stdio[3];
    const int *fds;
    int nfds;
    int become_root;
    /* cgroup v1: `tasks` files (opened for writing) the child writes "0" to, first thing. A
       single thread moving itself takes no global lock, where moving another process waits
       for an RCU grace period (10-40 ms). */
    const int *cgroup_task_fds;
    int ncgroup_task_fds;
    /* cgroup v2: the cgroup directory to clone into (clone3 CLONE_INTO_CGROUP), or -1. */
    int cgroup_dir_fd;
    /* Out: 1 when the child started in its cgroup(s); 0 when clone3 is missing and the
       caller must move it. */
    int cgroup_joined;
    /* The parent's own ends of the sync socket and the error pipe: the child closes its
       copies first, so a parent that dies shows as EOF and as a pipe without readers. */
    const int *parent_fds;
    int nparent_fds;
    /* Namespaces to join before the clone (a project network's user and network namespace,
       setns order): an intermediate child joins them, then clones init with CLONE_PARENT, so
       init is still the caller's child and is created inside them. -1 for none. */
    int join_user_fd;
    int join_net_fd;
};
/* Clones init into new namespaces. With a path, the child execs it; without one (only for a
   single-threaded caller), it returns 0 in the child, which continues as init. */
pid_t devenv_spawn_container(struct devenv_spawn *spawn, int *pidfd);
/* Threads in this process (from /proc/self/status), or -1. */
int devenv_thread_count(void);

int devenv_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data);
int devenv_umount2(const char *target, int flags);
int devenv_pivot_root(const char *new_root, const char *put_old);
int devenv_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr);
int devenv_fsopen(const char *fsname, unsigned int flags);
int devenv_fsconfig_string(int fd, const char *key, const char *value);
int devenv_fsconfig_flag(int fd, const char *key);
int devenv_fsconfig_create(int fd);
int devenv_fsmount(int fd, unsigned int flags, unsigned int attrs);
int devenv_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags);

/* open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) of fd, idmapped through userns_fd with
   `attr_set` added, then moved onto target_fd: a recursive bind mount whose files container
   root creates belong to the id the user namespace maps its uid 0 to. */
int devenv_bind_idmapped(int fd, int target_fd, uint64_t attr_set, int userns_fd);
/* A user namespace with the given uid_map/gid_map text, held by a descriptor (its short-lived
   process is gone on return); -1 with errno. Only async-signal-safe calls in the child. */
int devenv_userns_with_maps(const char *uid_map, const char *gid_map);
/* Whether this process may create a user namespace, for real: a child cloned into a new one
   (sharing memory and descriptors: no page tables to copy) that exits at once. 0, or the
   errno clone(2) gave (EPERM: restricted by a sysctl, an LSM or a seccomp filter; ENOSPC:
   user.max_user_namespaces is 0 or used up here or in a parent namespace). */
int devenv_userns_probe(void);

#define DEVENV_MOUNT_ATTR_RDONLY 0x00000001
#define DEVENV_MOUNT_ATTR_NOSUID 0x00000002
#define DEVENV_MOUNT_ATTR_NODEV 0x00000004
#define DEVENV_MOUNT_ATTR_NOEXEC 0x00000008
#define DEVENV_AT_RECURSIVE 0x8000
#define DEVENV_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define DEVENV_FSOPEN_CLOEXEC 0x00000001
#define DEVENV_FSMOUNT_CLOEXEC 0x00000001

int devenv_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5);
int devenv_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int devenv_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);
int devenv_clear_ambient_capabilities(void);
int devenv_setgroups(size_t count, const gid_t *groups);
int devenv_setresuid(uid_t uid);
int devenv_setresgid(gid_t gid);
int devenv_sethostname(const char *name, size_t length);

/* Loads the seccomp filter (when given) and execve()s immediately: nothing may run in between. */
int devenv_exec_sealed(const char *path, char *const argv[], char *const envp[], const void *filter, unsigned short instructions);
/* execveat(fd, "", AT_EMPTY_PATH): runs the file an open descriptor names, wherever the root now is. */
int devenv_exec_descriptor(int fd, char *const argv[], char *const envp[]);

/* SCM_RIGHTS over a unix socket (the pty master travels from the container to the parent). */
int devenv_send_fd(int socket_fd, int fd);
int devenv_recv_fd(int socket_fd);
int devenv_ioctl_int(int fd, unsigned long request, int argument);
/* statfs(2)'s f_type (filesystem magic) or -1; getxattr(2)'s value size or -1. */
long long devenv_statfs_type(const char *path);
long devenv_getxattr_size(const char *path, const char *name);
/* Both ends close-on-exec from the start: other threads may fork at any moment. */
int devenv_pipe_cloexec(int fds[2]);
int devenv_socketpair_cloexec(int fds[2]);
int devenv_loopback_up(void);
int devenv_pidfd_send_signal(int pidfd, int signal_number);

/* Process-wide signal relay: handlers write the signal number to every registered pipe. */
int devenv_relay_register(int write_fd);
void devenv_relay_unregister(int slot);
int devenv_relay_install(int signal_number, struct sigaction *previous);
int devenv_signal_restore(int signal_number, const struct sigaction *previous);
int devenv_signal_ignore(int signal_number, struct sigaction *previous);
/* Every disposition back to SIG_DFL and an empty signal mask (before exec of the user's command). */
void devenv_signal_defaults(void);

/* ---- Resource limits (limits.c) ---- */

/* unshare(2) (init enters a fresh cgroup namespace once it sits in the container's cgroup). */
int devenv_unshare(int flags);
/* setns(2) (joining a running container) and pidfd_open(2). */
int devenv_setns(int fd, int nstype);
int devenv_pidfd_open(int pid);
/* getrlimit/setrlimit with plain integers; RLIM_INFINITY is UINT64_MAX. */
int devenv_getrlimit(int resource, uint64_t *soft, uint64_t *hard);
int devenv_setrlimit(int resource, uint64_t soft, uint64_t hard);
#define DEVENV_RLIMIT_NPROC 6
#define DEVENV_RLIMIT_NOFILE 7

#endif
