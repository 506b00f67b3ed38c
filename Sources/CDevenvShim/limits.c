#define _GNU_SOURCE
#include "devenv_shim.h"

#include <sched.h>
#include <sys/resource.h>

int devenv_unshare(int flags) { return unshare(flags); }

int devenv_getrlimit(int resource, uint64_t *soft, uint64_t *hard) {
    struct rlimit limit;
    if (getrlimit((__rlimit_resource_t)resource, &limit) != 0) return -1;
    *soft = (uint64_t)limit.rlim_cur;
    *hard = (uint64_t)limit.rlim_max;
    return 0;
}

int devenv_setrlimit(int resource, uint64_t soft, uint64_t hard) {
    struct rlimit limit = { .rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard };
    return setrlimit((__rlimit_resource_t)resource, &limit);
}

/* setns(2): a joining session enters a running container's namespaces, user first. */
int devenv_setns(int fd, int nstype) { return setns(fd, nstype); }

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#include <sys/syscall.h>
#include <unistd.h>

/* pidfd_open(2): signals reach a recorded process only while it is the same process. */
int devenv_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
