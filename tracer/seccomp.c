/* seccomp.c - building and installing the watched-syscall filter. */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const long watched[] = {
    SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect,
    SYS_shmget, SYS_shmat, SYS_shmdt, SYS_shmctl,
    SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat,
    SYS_exit_group,
    SYS_ptrace,                /* only to say why a second tracer is refused */
};
#define NWATCHED (sizeof watched / sizeof watched[0])

int ml_seccomp_watched(long nr)
{
    for (size_t i = 0; i < NWATCHED; i++)
        if (watched[i] == nr) return 1;
    return 0;
}

int ml_seccomp_install(void)
{
    struct sock_filter prog[NWATCHED + 6];
    size_t n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr));
    /* Each watched number jumps forward to the RET_TRACE at the end. */
    for (size_t i = 0; i < NWATCHED; i++) {
        unsigned char to_trace = (unsigned char)(NWATCHED - i);
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                 (unsigned)watched[i], to_trace, 0);
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
    if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    /* SPEC_ALLOW: a filter would otherwise also switch on the speculative
     * store bypass mitigation, slowing all of the target's code, not just
     * its syscalls; memlens filters to watch, not to sandbox. */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog) != 0 &&
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0 &&
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0)
        return -errno;
    return 0;
}
