/* front.h - the process the caller waits for, apart from the tracer.
 *
 * memlens returns when the program it started ends, as valgrind does, while
 * the processes that outlive it (daemons) stay traced until they end and are
 * reported then. A tracer cannot hand its tracees to another process, so
 * memlens splits before it starts the program: the original process (the
 * front, the pid the shell waits for) only forwards signals and waits for
 * the program's status; its child traces. If the front is killed, the
 * tracer goes with it, and the program with the tracer (PTRACE_O_EXITKILL),
 * until the tracer is released. Owns the pipe between the two.
 */
#ifndef ML_FRONT_H
#define ML_FRONT_H

/* Split. Returns 0 in the tracer, -errno (ml_error set) when no process
 * can be made; the front never returns: it exits with the status the
 * tracer releases it with, or with the tracer's own exit status. */
int ml_front_split(void);

/* The tracer: let the front exit with STATUS now, and live on without it
 * (memlens no longer dies with the front). Once only; without a split,
 * nothing. Returns whether there was a front to release. */
int ml_front_release(int status);

/* Whether the front has been released (the caller has its status). */
int ml_front_released(void);

#endif
