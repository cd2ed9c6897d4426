/* record.h - the session and the event stream of libmemlens.so.
 *
 * record.c owns the process's session (see include/memlens/session.h): its
 * creation and adoption handshake, the replacement session of a forked
 * child, the per-thread rings and the global sequence counter.  Callers are
 * the interposers in shim.c; they hold the re-entrancy guard while calling
 * anything declared here.
 *
 * Sequence numbers are dense: every number returned by ml_rec_claim() must be
 * published exactly once, by ml_rec_free_at() or ml_rec_nop().
 */
#ifndef MEMLENS_PRELOAD_RECORD_H
#define MEMLENS_PRELOAD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decide once per process whether to record: reads MEMLENS_SESSION from envp
 * (or environ when envp is NULL) and opens a session.  Idempotent and
 * thread-safe; a call made while another thread initialises returns false.
 * When no environment is available yet the decision is postponed. */
bool ml_rec_start(char **envp);

/* Whether new blocks are zeroed before the program gets them (session
 * option zero=0|1, default 1: see zero_fresh() in shim.c). */
bool ml_rec_zero_new(void);

/* The shim's re-entrancy guard, nonzero while this thread is inside an
 * allocation call, and the real malloc: published in every session's header. */
void ml_rec_guard_at(const int *guard, const void *real_malloc);
/* The allocator's thread-local storage (the calling thread's block), when
 * the allocator is not the C library's: never a root. */
void ml_rec_allocator_tls(const void *tls, size_t size);

/* Attach mode (attach.c): record into hdr, a session memlens has already
 * adopted, from now on.  False when this process records already. */
struct ml_header;
bool ml_rec_attach(struct ml_header *hdr, uint32_t frames);
/* Attach mode: memlens let go of hdr; recording into it stops now. */
void ml_rec_detached(struct ml_header *hdr);

/* Hot-path test: true when the calling thread should record this call.
 * Starts the session on first use and replaces it in a forked child. */
bool ml_rec_on(void);

/* An allocation that has just returned p: takes a sequence number now. */
void ml_rec_alloc(const void *p, size_t size, unsigned fn);

/* A release of p that is about to happen: takes a sequence number now.
 * size is the size argument of a sized delete, 0 otherwise. */
void ml_rec_free(const void *p, size_t size, unsigned fn);

/* The program's own mmap (ML_EV_MMAP, with its stack), munmap (ML_EV_MUNMAP)
 * or shmget (ML_EV_SHMGET: p is the shmid) that has just succeeded. */
void ml_rec_map(unsigned type, const void *p, size_t size);

/* Descriptor events (ML_EV_FD_OPEN with its stack, ML_EV_FD_CLOSE) of fd;
 * fn is enum ml_fd_fn.  Only when ml_fds_on is 1, the tracer's
 * --track-fds=yes, which the interposers in fdshim.c test before anything
 * else.  It is -1 until the session options are read: a call made before
 * (a library's constructor that runs before the shim's) starts recording,
 * as a malloc does, so that what it opens gets its stack. */
extern int ml_fds_on;
void ml_rec_fd(unsigned type, int fd, unsigned fn);
/* close_range and closefrom: descriptors first .. last are about to close. */
void ml_rec_fd_close_range(unsigned first, unsigned last);
/* A descriptor the shim itself opens or closes (its callees: libunwind's
 * pipe): kept in the list ML_OWN_FDS_SYMBOL names, never listed. */
void ml_rec_own_fd(unsigned type, int fd);

/* Claim a sequence number whose event is published later (realloc).
 * ML_NO_SEQ means "no session any more": the publish calls ignore it. */
#define ML_NO_SEQ UINT64_MAX
uint64_t ml_rec_claim(void);
void ml_rec_free_at(uint64_t seq, const void *p, unsigned fn);
void ml_rec_nop(uint64_t seq);

#endif
