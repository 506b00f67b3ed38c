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
int devenv_syncfs(int fd);

#endif
