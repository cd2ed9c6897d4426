/* loop.h - the ptrace event loop: one wait, one dispatch per stop.
 *
 * Every stop kind (seccomp, fork/clone/exec/exit events, group-stop, signal
 * delivery, death) is one case here.  At a process's exit, with all its
 * threads held at PTRACE_EVENT_EXIT, the loop drains its session, captures
 * the snapshot, lets the threads go, then hands the snapshot to the caller.
 */
#ifndef ML_LOOP_H
#define ML_LOOP_H

#include "children.h"
#include "procs.h"
#include "snapshot.h"

struct ml_loop_config {
    int root_pid;
    /* Called after a process's snapshot (snap->scanned 0 when none could be
     * taken); the callee owns snap. */
    void (*on_process_end)(struct ml_proc *p, struct ml_snapshot *snap, void *ctx);
    /* Called when a process has been reaped (exit status known). */
    void (*on_reaped)(struct ml_proc *p, void *ctx);
    /* Called when a traced process starts: forked 1 for a fork's child (it
     * runs its parent's image), 0 for an image it executed. */
    void (*on_process_start)(struct ml_proc *p, int forked, void *ctx);
    void *ctx;
    const struct ml_children *children;   /* which exec'd images to trace; NULL: all */
    const struct ml_envfix *envfix;   /* re-add the shim at exec; NULL: leave it */
    unsigned freeres;                 /* ML_FREERES_* to run at exit_group (freeres.h) */
    int track_fds;                    /* read the open descriptors at each exit */
    int quiet;                        /* -q: no progress line at exit */
    /* Called with what the user should know about a process: a new image
     * (after an exec; p->exe names it) or its attempt to trace another. */
    void (*on_note)(struct ml_proc *p, int what, void *ctx);
};

enum { ML_NOTE_EXEC, ML_NOTE_PTRACE };

/* Run until every traced process has ended. Returns 0 or -errno. */
int ml_loop_run(const struct ml_loop_config *cfg);
/* Install the handlers that forward SIGTERM, SIGHUP and sent SIGINT/SIGQUIT. */
void ml_loop_forward_signals(void);

#endif
