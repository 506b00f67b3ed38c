/*
 * userns-denied: runs a program on a host where creating a user namespace fails the way the
 * kernel fails it, with no sysctl changed (sysctls are host-wide; this is one process tree):
 * a seccomp filter, as the outer container of a container runtime installs one.
 *
 *   clone(2) and unshare(2) with CLONE_NEWUSER  -> ERRNO (EPERM: restricted, as a seccomp
 *                                                  profile, an LSM or a sysctl; ENOSPC: as
 *                                                  user.max_user_namespaces 0 here or in a
 *                                                  parent namespace)
 *   clone3(2)                                   -> ENOSYS (its flags are behind a pointer a
 *                                                  filter cannot read, so Docker's profile
 *                                                  refuses it all; libc falls back to clone)
 *
 * Everything else is allowed, and the filter outlives exec and setuid, so
 * `userns-denied EPERM setpriv --reuid=... devenv ...` is that user's devenv on such a host.
 * Run as root, it needs no no_new_privs (which would disable setuid newuidmap): only
 * CAP_SYS_ADMIN may install a filter without it.
 *
 * Build: cc -O2 -o userns-denied userns-denied.c
 * Usage: userns-denied EPERM|ENOSPC PROGRAM [ARGUMENT...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "userns-denied knows x86_64 and aarch64"
#endif

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "EPERM") != 0 && strcmp(argv[1], "ENOSPC") != 0)) {
        fputs("usage: userns-denied EPERM|ENOSPC PROGRAM [ARGUMENT...]\n", stderr);
        return 64;
    }
    unsigned int denied = strcmp(argv[1], "EPERM") == 0 ? EPERM : ENOSPC;
    struct sock_filter program[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 0, 3),
        /* The flags are the first argument of both; CLONE_NEWUSER is in its low word. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | denied),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog filter = { .len = sizeof program / sizeof program[0], .filter = program };
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0) {
        perror("userns-denied: seccomp (run it as root)");
        return 125;
    }
    execv(argv[2], argv + 2);
    perror("userns-denied: exec");
    return 127;
}
