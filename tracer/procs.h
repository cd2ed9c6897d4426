/* procs.h - the traced processes and threads, found by pid.
 *
 * Owns one ml_proc per traced process image history (pid) and one
 * ml_thread per traced task, and the finished reports of processes that
 * ended, in the order they ended.
 */
#ifndef ML_PROCS_H
#define ML_PROCS_H

#include <stdint.h>
#include <time.h>
#include <uthash.h>
#include "inherit.h"
#include "leaks.h"
#include "memtrace.h"
#include "openfds.h"
#include "model.h"
#include "snapshot.h"

struct ml_session;

struct ml_thread {
    int tid;
    struct ml_proc *proc;
    int started;              /* its first stop has been seen */
    int at_exit;              /* held at PTRACE_EVENT_EXIT */
    int past_exit;            /* let go from its exit stop: it never stops again */
    int held;                 /* kept in a ptrace-stop by memlens (attach, freeres) */
    double held_since;        /* attach mode: when it stopped at its exit */
    long sc_nr;               /* watched syscall in progress, -1 none */
    int sc_adopting;          /* that syscall is the shim's session mmap */
    int sc_in_alloc;          /* it was made inside an allocation call of the shim */
    uint64_t stack_lo, stack_hi;      /* its stack, from the clone3 that made it */
    uint64_t new_stack_lo, new_stack_hi;  /* the stack of the thread it is creating */
    uint64_t sc_args[6];
    uint64_t regs[ML_NREGS];  /* registers at that stop */
    UT_hash_handle hh;
};

struct ml_proc {
    int pid, ppid;
    int report_it;            /* traced for the report (--trace-children) */
    int group_exiting;        /* exit_group seen, or a fatal signal */
    int execing;              /* execve seen, image not replaced yet */
    int forked;               /* a forked child that has not exec'd */
    int images;               /* execs completed */
    int text_done;            /* its closing text was written */
    int exec_traced;          /* at an execve: its new image will be traced */
    int nthreads;             /* live threads we know */
    int snapshot_done;
    int freeres_done;         /* its freeres ran (or was tried) at exit_group */
    int freeres_error;        /* -errno of that try, 0 when it ran */
    int reaped;
    int written;              /* its report has gone to the outputs */
    int noted_ptrace;         /* told the user why its ptrace fails */
    int session_error;        /* errno of the shim's failed session mmap, 0 none */
    int wait_status;          /* of the thread-group leader */
    struct ml_session *session;
    struct ml_thread_state *gone; /* threads that ended: final stack pointers */
    size_t ngone;
    struct ml_proc_report *report;  /* filled at the snapshot */
    char *exe;                /* image path, read at start and at each exec */
    char **argv;              /* NULL-terminated */
    struct ml_memtrace mt;    /* the memory map as the watcher saw it change */
    struct ml_inherit inh;    /* the heap it was forked with */
    struct ml_fd_seen *fds_seen;  /* --track-fds: what was open at its exit */
    size_t nfds_seen;
    double started;           /* monotonic seconds */
    struct ml_proc *next;
};

/* Every known thread; iterate with t->hh.next. */
struct ml_thread *ml_threads_all(void);
static inline double ml_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read tid's registers (it is in a ptrace-stop) into regs. Returns 0 or -errno. */
int ml_read_regs(int tid, uint64_t *regs);
struct ml_thread *ml_thread_find(int tid);
/* Find or create the thread tid (and its process, looked up in /proc). */
struct ml_thread *ml_thread_get(int tid);
void ml_thread_remove(struct ml_thread *t);
struct ml_proc *ml_proc_find(int pid);
struct ml_proc *ml_proc_first(void);
int ml_proc_count_live(void);
void ml_procs_set_default_report(int report_children, int root_pid);
/* Stacks of p's blocks: its session's and those it inherited. */
struct ml_stack_source ml_proc_stacks(struct ml_proc *p);
/* The child p starts with parent's heap (fork). */
void ml_proc_inherit(struct ml_proc *child, struct ml_proc *parent);
/* Only the records of who opened the descriptors it starts with (vfork). */
void ml_proc_inherit_fds(struct ml_proc *child, struct ml_proc *parent);
/* Re-read p's exe and argv from /proc (after an exec). */
void ml_proc_read_identity(struct ml_proc *p);

#endif
