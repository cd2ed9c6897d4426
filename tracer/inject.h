/* inject.h - calling a function inside a traced thread (x86-64).
 *
 * Borrows a thread that is in a ptrace-stop: saves its registers and its
 * extended (FPU/SSE/AVX) state, runs fn(args...) on its own stack below the
 * red zone with a 16-byte aligned stack and a return address of 0, catches
 * the fault of that return (the result is in rax), and puts every register
 * back.  A thread that was stopped inside a system call gets orig_rax -1 for
 * the call, so the kernel does not restart the syscall into our function;
 * its own orig_rax and rax come back with the rest, so the interrupted call
 * restarts as usual when the thread resumes.
 *
 * Owns the saved state in struct ml_inject; nothing global.
 */
#ifndef ML_INJECT_H
#define ML_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#define ML_XSTATE_MAX 16384

struct ml_inject {
    int tid;
    int gone;                     /* the thread left (exit stop or death) */
    struct user_regs_struct saved;
    unsigned char xstate[ML_XSTATE_MAX];
    size_t xlen;                  /* bytes of xstate saved; 0: fpregs used */
    struct user_fpregs_struct fp;
    uint64_t scratch;             /* lowest byte handed out by ml_inject_put */
};

/* Stops that are not the end of the call (other threads, or this thread's
 * own signals and events) go to this callback, which must resume them. */
typedef void (*ml_inject_other_fn)(int tid, int status, void *ctx);

/* Save tid's state (tid must be in a ptrace-stop). Returns 0 or -errno. */
int ml_inject_begin(struct ml_inject *in, int tid);
/* Copy len bytes below the red zone of the borrowed stack; *addr receives
 * where they are in the target. Returns 0 or -errno. */
int ml_inject_put(struct ml_inject *in, const void *data, size_t len, uint64_t *addr);
/* Run fn(args[0..nargs-1]) (at most 6 integer arguments) and wait at most
 * timeout seconds.  Returns 0 with *ret = rax; -ESRCH when the thread or
 * process went away; -ETIMEDOUT (thread stopped again); -EFAULT when the
 * call faulted (the fault is not delivered); other -errno from ptrace. */
int ml_inject_call(struct ml_inject *in, uint64_t fn, const uint64_t *args, int nargs,
                   double timeout, ml_inject_other_fn other, void *ctx, uint64_t *ret);
/* Put the saved state back; the thread stays stopped. Returns 0 or -errno. */
int ml_inject_end(struct ml_inject *in);

#endif
