#define _GNU_SOURCE
#include "devenv_shim.h"

#include <unistd.h>
#include <sys/xattr.h>

/* Extended attributes and syncfs(2): glibc declares them, but Swift's Glibc module does not
 * import <sys/xattr.h> and hides syncfs behind _GNU_SOURCE. */

ssize_t devenv_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
ssize_t devenv_fgetxattr(int fd, const char *name, void *value, size_t size) { return fgetxattr(fd, name, value, size); }
int devenv_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}
ssize_t devenv_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }
ssize_t devenv_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}
int devenv_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
    return lsetxattr(path, name, value, size, flags);
}
int devenv_fremovexattr(int fd, const char *name) { return fremovexattr(fd, name); }
int devenv_lremovexattr(const char *path, const char *name) { return lremovexattr(path, name); }
int devenv_syncfs(int fd) { return syncfs(fd); }
