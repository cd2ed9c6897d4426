/* spawn.h - starting the target program under ptrace with the shim.
 *
 * Resolves the program as execvp would, finds libmemlens.so, and starts the
 * child seized (PTRACE_SEIZE) with the seccomp filter installed and the
 * shim preloaded.  Owns nothing after it returns.
 */
#ifndef ML_SPAWN_H
#define ML_SPAWN_H

/* The program's path (malloc'd), or NULL with errno ENOENT or EACCES. */
char *ml_find_program(const char *name);
/* Path of libmemlens.so for this memlens (build tree or installed), or NULL. */
char *ml_find_shim(void);
/* Path of the default suppressions (data/default.supp in the build tree,
 * installed in pkgdatadir, else in the source tree of this build), or NULL. */
char *ml_find_default_suppressions(void);
/* ptrace options memlens uses on every task. */
unsigned long ml_ptrace_options(void);

struct ml_spawn_config {
    const char *path;          /* resolved program */
    char **argv;
    const char *shim;
    int num_callers;
    int track_fds;             /* the shim records descriptors (--track-fds=yes) */
};

/* "MEMLENS_SESSION=..." for cfg (malloc'd), or NULL. */
char *ml_session_env(const struct ml_spawn_config *cfg);

/* Start the target; returns its pid or -errno (message in ml_last_error()).
 * *exec_errfd receives a descriptor that yields the errno of a failed execve
 * (4 bytes) or end-of-file once the program is running. */
int ml_spawn(const struct ml_spawn_config *cfg, int *exec_errfd);

#endif
