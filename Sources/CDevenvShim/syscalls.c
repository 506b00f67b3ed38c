#define _GNU_SOURCE
#include "devenv_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct devenv_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int devenv_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct devenv_open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    long rc;
    do {
        rc = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (rc < 0 && errno == EAGAIN);
    return (int)rc;
}

int devenv_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int devenv_open(const char *path, int flags, mode_t mode) { return open(path, flags, mode); }
int devenv_openat(int dirfd, const char *path, int flags, mode_t mode) { return openat(dirfd, path, flags, mode); }
int devenv_fcntl_int(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }
int devenv_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int devenv_errno(void) { return errno; }

dev_t devenv_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
unsigned int devenv_major(dev_t dev) { return major(dev); }
unsigned int devenv_minor(dev_t dev) { return minor(dev); }
