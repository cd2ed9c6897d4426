/* freeres.h - glibc's and libstdc++'s freeres in a process that is exiting.
 *
 * glibc keeps buffers on purpose until exit (dlerror state, the stack cache
 * of joined threads with their TLS, locale and NSS data) and libstdc++ its
 * emergency exception pool; both free them in a function that valgrind calls
 * before its leak check: __gnu_cxx::__freeres first, then __libc_freeres.
 * memlens calls them the same way, from the thread that entered exit_group,
 * while every other thread of the process is held in a ptrace-stop (exit_group
 * kills them; they never run again, as valgrind never schedules them again).
 * A held thread that owns a lock the freeres needs makes the call time out:
 * the call is abandoned, and the exit goes on without it.
 *
 * Owns nothing between calls.
 */
#ifndef ML_FREERES_H
#define ML_FREERES_H

#include "inject.h"

enum { ML_FREERES_CXX = 1u, ML_FREERES_LIBC = 2u };

/* Returned when the process has loaded none of the functions: tid was not
 * touched, and its exit_group goes on from the stop it is in. */
#define ML_FREERES_NONE 1

/* tid is at exit_group's seccomp stop.  Call the freeres functions that
 * `which` names and its process has loaded (found through tid's own /proc
 * entry: the leader may be a zombie whose maps are empty), then set tid up
 * to enter exit_group again when resumed.  Stops of other tasks meanwhile go
 * to other().  Returns 0, ML_FREERES_NONE, or the -errno of the first call
 * that failed (-ETIMEDOUT: it did not return within timeout seconds). */
int ml_freeres_run(int tid, unsigned which, double timeout,
                   ml_inject_other_fn other, void *ctx);

#endif
