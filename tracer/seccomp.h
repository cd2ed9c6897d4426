/* seccomp.h - the BPF filter that makes only watched syscalls stop the target.
 *
 * Installed in the child between fork and exec; watched syscalls return
 * SECCOMP_RET_TRACE (a PTRACE_EVENT_SECCOMP stop), every other syscall runs
 * at full speed.
 */
#ifndef ML_SECCOMP_H
#define ML_SECCOMP_H

/* Install the filter in the calling process. Returns 0 or -errno. */
int ml_seccomp_install(void);
/* 1 when nr is one of the watched syscalls. */
int ml_seccomp_watched(long nr);

#endif
