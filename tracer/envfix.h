/* envfix.h - the shim in the environment of an exec'ed image: kept there
 * for an image memlens traces, taken out of one it does not.
 *
 * A program that clears its environment or unsets LD_PRELOAD before exec
 * would otherwise run its new image unrecorded.  At the execve seccomp
 * stop, when the new environment lacks the shim or the session options,
 * a copy of the environment pointer array with them added is written
 * below the thread's stack (dead memory: the image is about to be
 * replaced) and the execve argument is pointed at it.
 */
#ifndef ML_ENVFIX_H
#define ML_ENVFIX_H

#include <stdint.h>

struct ml_envfix {
    const char *shim;          /* absolute path of libmemlens.so */
    const char *session;       /* "MEMLENS_SESSION=..." */
};

/* regs: the stopped thread's registers (updated in place and written back
 * when the environment was changed); envp_reg: index of the envp argument.
 * Returns 1 when changed, 0 when nothing was needed, -errno on failure. */
int ml_envfix_execve(int tid, uint64_t *regs, int envp_reg, const struct ml_envfix *fix);

/* The opposite, for an image that runs untraced (--trace-children=no): the
 * environment without the session options and without the shim in
 * LD_PRELOAD.  Same arguments and results. */
int ml_envfix_strip(int tid, uint64_t *regs, int envp_reg, const struct ml_envfix *fix);

/* The NUL-terminated string at addr in the stopped tid (malloc'd, at most
 * 128 KiB), or NULL. */
char *ml_tracee_string(int tid, uint64_t addr);

#endif
