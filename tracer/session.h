/* session.h - the tracer's side of a shared-memory session.
 *
 * A session is adopted when the shim maps its memfd (seen at the mmap
 * seccomp stop).  The tracer keeps its own mapping, so every event stays
 * readable even if the target dies.  A drainer thread replays the events of
 * all sessions, in sequence order, into each session's live-block table.
 * Owns: the mapping, the reorder window, the live blocks.
 */
#ifndef ML_SESSION_TRACER_H
#define ML_SESSION_TRACER_H

#include "blocks.h"
#include "leaks.h"

struct ml_session;

/* Adopt the memfd that target pid is mapping from its descriptor fd; the
 * live blocks start as `initial` (taken over; NULL for an empty heap).
 * Returns NULL when it is not a memlens session (errno set). */
struct ml_session *ml_session_adopt(int pid, int fd, struct ml_blocks *initial);
/* The same for the SysV segment shmid that a shim with no free descriptor
 * made its session (memlens/session.h); NULL (errno ENOENT) when shmid is
 * no such segment of pid. */
struct ml_session *ml_session_adopt_shm(int pid, int shmid, struct ml_blocks *initial);
/* Whether shmid is such a segment, made by pid. */
int ml_session_is_shm(int pid, int shmid);
/* A copy of the live blocks now (after draining what is published). */
struct ml_blocks *ml_session_clone_blocks(struct ml_session *s);
/* The thread tid has exited: drain its ring and hand the ring back. */
void ml_session_thread_exited(struct ml_session *s, int tid);
/* All threads are stopped or gone: apply every remaining event. */
void ml_session_finish(struct ml_session *s);
/* The process has exited and every event is applied: keep its live blocks
 * sorted in as little memory as they take (ml_blocks_freeze). */
void ml_session_freeze(struct ml_session *s);
struct ml_memtrace;
/* Copy the program's own mappings and shm stacks seen by the shim into mt. */
void ml_session_take_maps(struct ml_session *s, struct ml_memtrace *mt);
struct ml_blocks *ml_session_blocks(struct ml_session *s);
/* Who made each descriptor, as far as the events applied so far say. */
struct ml_fd_table;
const struct ml_fd_table *ml_session_fds(const struct ml_session *s);
/* A copy of that (after draining what is published), into an empty out.
 * Returns 0 or -ENOMEM. */
int ml_session_copy_fds(struct ml_session *s, struct ml_fd_table *out);
struct ml_stack_source ml_session_stacks(struct ml_session *s);
/* 1 when the shim ran out of room for stacks (some have id 0). */
int ml_session_stacks_full(const struct ml_session *s);
void ml_session_close(struct ml_session *s);
/* The shared header (attach mode reads `seq` and clears `adopted` to detach). */
struct ml_header *ml_session_header(struct ml_session *s);

/* The drainer thread; start once, stop before exit. */
int ml_drainer_start(void);
void ml_drainer_stop(void);

#endif
