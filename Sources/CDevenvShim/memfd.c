#define _GNU_SOURCE
#include "devenv_shim.h"

#include <sys/mman.h>

int devenv_memfd_create(const char *name, unsigned int flags) {
    return memfd_create(name, flags);
}
