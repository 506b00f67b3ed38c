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
