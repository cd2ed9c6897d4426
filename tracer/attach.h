/* attach.h - memlens -p PID: record a running process for a while, leave it running.
 *
 * Seizes every thread, loads libmemlens.so into the process with a
 * ptrace-driven call of dlopen (inject.h) on a thread that is safe to
 * borrow, adopts the session the shim creates and lets the shim redirect
 * the allocation functions (include/memlens/attach.h).  Records until the
 * process exits, a signal asks memlens to stop, or the duration ends; then
 * stops every thread, drains the session, takes the snapshot, puts the GOT
 * entries back, leaves the shim inert and detaches.  No seccomp filter is
 * ever installed.  A failure before recording starts leaves the process as
 * it was (registers, GOT, threads) and is returned with its sentence in
 * ml_last_error().
 */
#ifndef ML_ATTACH_H
#define ML_ATTACH_H

#include <stdint.h>
#include "procs.h"
#include "snapshot.h"

struct ml_attach_config {
    int pid;
    const char *shim;          /* path of libmemlens.so */
    int num_callers;
    double duration;           /* seconds of recording; 0: until exit or a signal */
    double interval;           /* seconds between growth summaries; 0: none */
    int quiet;                 /* -q: no progress line while the snapshot is analysed */
    /* The process's snapshot (the callee owns snap); then, when the process
     * exited while recorded, on_reaped once its exit status is known. */
    void (*on_process_end)(struct ml_proc *p, struct ml_snapshot *snap, void *ctx);
    void (*on_reaped)(struct ml_proc *p, void *ctx);
    /* Every `interval` seconds of recording (seconds since it started). */
    void (*on_interval)(struct ml_proc *p, double seconds, void *ctx);
    void *ctx;
};

/* Catch SIGINT, SIGTERM, SIGHUP and SIGQUIT: each ends the recording. */
void ml_attach_catch_signals(void);
/* Run an attach.  Returns 0 once the process was reported (detached or
 * ended), or -errno when the attach failed (ml_last_error() says why). */
int ml_attach_run(const struct ml_attach_config *cfg);
/* Seconds after recording started at which event seq happened (for ages). */
double ml_attach_seq_seconds(void *unused, uint64_t seq);
/* Seconds after recording started at which the snapshot was taken. */
double ml_attach_snapshot_seconds(void);

#endif
