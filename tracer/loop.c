/* loop.c - the ptrace event loop (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "capture.h"
#include "children.h"
#include "envfix.h"
#include "fdscan.h"
#include "freeres.h"
#include "progressline.h"
#include "phases.h"
#include "memlens/session.h"
#include "session.h"

#define REG_ORIG_RAX 15
#define REG_ARG(r, i) ((i) == 0 ? (r)[14] : (i) == 1 ? (r)[13] : (i) == 2 ? (r)[12] : \
                       (i) == 3 ? (r)[7] : (i) == 4 ? (r)[9] : (r)[8])

/* Seconds a freeres call may take; one that waits longer waits for a lock
 * that a held thread owns. */
#define FREERES_TIMEOUT 3.0

static volatile sig_atomic_t pending_signal;
static const struct ml_loop_config *g_cfg;

static void dispatch(pid_t tid, int status);
static void on_syscall_exit(struct ml_thread *t);

static void on_signal(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    /* SIGINT/SIGQUIT from the terminal reach the target directly. */
    if ((sig == SIGINT || sig == SIGQUIT) && info->si_code != SI_USER && info->si_code != SI_QUEUE)
        return;
    pending_signal = sig;
}

void ml_loop_forward_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;         /* no SA_RESTART: waitpid returns EINTR */
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

static void resume(int tid, int sig)
{
    ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig);
}

static int syscall_index(long nr)
{
    switch (nr) {
    case SYS_brk: return ML_SC_BRK;
    case SYS_mmap: return ML_SC_MMAP;
    case SYS_munmap: return ML_SC_MUNMAP;
    case SYS_mremap: return ML_SC_MREMAP;
    case SYS_mprotect: return ML_SC_MPROTECT;
    case SYS_shmget: return ML_SC_SHMGET;
    case SYS_shmat: return ML_SC_SHMAT;
    case SYS_shmdt: return ML_SC_SHMDT;
    case SYS_shmctl: return ML_SC_SHMCTL;
    default: return -1;
    }
}

static int take_session(struct ml_proc *p, struct ml_session *s);
static struct ml_session *adopted_or_said(struct ml_proc *p, struct ml_session *s);

/* The shim maps its session: adopt it. Returns 1 when it did. */
static int maybe_adopt(struct ml_proc *p, const uint64_t *r)
{
    uint64_t len = REG_ARG(r, 1), flags = REG_ARG(r, 3);
    int fd = (int)REG_ARG(r, 4);
    if (!p->report_it || fd < 0 || !(flags & MAP_SHARED) || len != ML_SESSION_FIRST) return 0;
    return take_session(p, adopted_or_said(p, ml_session_adopt(p->pid, fd, p->inh.blocks)));
}

/* s, or why memlens itself could not map the session (ENOENT: it was not one). */
static struct ml_session *adopted_or_said(struct ml_proc *p, struct ml_session *s)
{
    if (!s && errno != ENOENT && errno != EPROTO) p->session_error = errno;
    return s;
}

/* The shim's SysV session calls (a process without a free descriptor):
 * memlens's own, not the program's, so they are not recorded; the session
 * is adopted when the shim removes its id. Returns 1 for such a call. */
static int session_shm_call(struct ml_proc *p, long nr, const uint64_t *r)
{
    if (!p->report_it) return 0;
    if (nr == SYS_shmget)
        return ((uint32_t)REG_ARG(r, 0) & 0xffff0000u) == ML_SESSION_SHM_KEY &&
               REG_ARG(r, 1) == ML_SESSION_SIZE;
    if ((nr != SYS_shmat && nr != SYS_shmctl) || !ml_session_is_shm(p->pid, (int)REG_ARG(r, 0)))
        return 0;
    if (nr == SYS_shmctl && ((int)REG_ARG(r, 1) & 0xff) == IPC_RMID)
        take_session(p, adopted_or_said(p, ml_session_adopt_shm(p->pid, (int)REG_ARG(r, 0),
                                                                p->inh.blocks)));
    return 1;
}

/* s, just adopted, is p's session from now on. Returns 1 when there is one. */
static int take_session(struct ml_proc *p, struct ml_session *s)
{
    if (!s) return 0;
    p->inh.blocks = NULL;                /* the session owns the inherited heap now */
    ml_session_close(p->session);      /* a stale one, should the shim start over */
    p->session = s;
    p->session_error = 0;
    return 1;
}

/* Whether thread tid, stopped with registers r, is inside an allocation
 * call: the shim's guard, an int at a fixed offset from the thread
 * pointer (fs_base) that the session header gives, is set. */
static int inside_alloc_call(const struct ml_proc *p, int tid, const uint64_t *r)
{
    struct ml_header *h = p->session ? ml_session_header(p->session) : NULL;
    if (!h || !__atomic_load_n(&h->guard_known, __ATOMIC_ACQUIRE)) return 0;
    int guard = 0;
    struct iovec l = {&guard, sizeof guard},
                 rm = {(void *)(uintptr_t)(r[ML_REG_FS_BASE] + (uint64_t)h->guard_tls), sizeof guard};
    return process_vm_readv(tid, &l, 1, &rm, 1, 0) == (ssize_t)sizeof guard && guard != 0;
}

/* A thread being created with clone3 names its stack: remember it for the
 * new thread (its dead frames lie between the stack's start and its sp). */
static void note_new_stack(struct ml_thread *t, const uint64_t *r)
{
    uint64_t args[7] = {0};             /* flags .. stack_size of struct clone_args */
    struct iovec l = {args, sizeof args}, rm = {(void *)REG_ARG(r, 0), sizeof args};
    t->new_stack_lo = t->new_stack_hi = 0;
    if (REG_ARG(r, 1) < sizeof args || process_vm_readv(t->tid, &l, 1, &rm, 1, 0) != sizeof args)
        return;
    if (!(args[0] & CLONE_THREAD) || !args[5]) return;
    t->new_stack_lo = args[5];
    t->new_stack_hi = args[5] + args[6];
}

/* Whether brk(want) will surely set the break to want, which spares its
 * exit stop: a stop costs tens of microseconds, and a heap growing to
 * 1 GiB makes some 8,000 brk calls.  Once the heap's start is known, a
 * shrink within the heap always succeeds; a growth fails only when the
 * new break would meet a mapping, exceed RLIMIT_DATA, or overrun a strict
 * overcommit limit (or, after mlockall(MCL_FUTURE), RLIMIT_MEMLOCK, which
 * is not checked here).  Anything but the plain case (brk(0), a first
 * call, a request below the heap, a data limit, a mapping within 1 MiB,
 * strict overcommit) still waits for the result.  A wrong guess could only
 * misdraw the heap timeline: the exit snapshot reads the real map. */
static int brk_surely_succeeds(const struct ml_proc *p, uint64_t want)
{
    static int strict = -1;           /* vm.overcommit_memory == 2 */
    const struct ml_memtrace *mt = &p->mt;
    if (!mt->brk_start || want < mt->brk_start) return 0;
    if (want <= mt->brk_cur) return 1;
    if (strict < 0) {
        FILE *f = fopen("/proc/sys/vm/overcommit_memory", "re");
        int mode = f ? fgetc(f) : EOF;
        if (f) fclose(f);
        strict = mode != '0' && mode != '1';
    }
    struct rlimit lim;
    if (strict || prlimit(p->pid, RLIMIT_DATA, NULL, &lim) != 0 || lim.rlim_cur != RLIM_INFINITY)
        return 0;
    uint64_t next = ml_memtrace_next_start(mt, mt->brk_cur);
    return next == UINT64_MAX || next - mt->brk_cur > want - mt->brk_cur + (1u << 20);
}

/* A stop while the threads of the exiting thread's process are held for
 * its freeres: they stay stopped (a watched syscall that returned is noted
 * first); their exits, the exiting thread's own syscalls and other
 * processes' stops are handled as usual. */
static void hold_dispatch(int tid, int status, void *ctx)
{
    const struct ml_thread *exiting = ctx;
    struct ml_proc *p = exiting->proc;
    struct ml_thread *u = WIFSTOPPED(status) ? ml_thread_get(tid) : NULL;
    if (!u || u->proc != p || u == exiting || (unsigned)status >> 16 == PTRACE_EVENT_EXIT) {
        dispatch(tid, status);
        return;
    }
    if ((unsigned)status >> 16 == 0 && WSTOPSIG(status) == (SIGTRAP | 0x80) && u->sc_nr >= 0)
        on_syscall_exit(u);
    u->started = 1;
    u->held = 1;
}

/* Stop every thread of p but t; wait at most a second for them. */
static void hold_others(struct ml_proc *p, struct ml_thread *t)
{
    int waiting = 0;
    for (struct ml_thread *u = ml_threads_all(); u; u = u->hh.next)
        if (u->proc == p && u != t && !u->at_exit && !u->past_exit) {
            u->held = 0;
            ptrace(PTRACE_INTERRUPT, u->tid, 0, 0);
            waiting = 1;
        }
    for (double end = ml_now() + 1.0; waiting && ml_now() < end;) {
        int status;
        pid_t w = waitpid(-1, &status, __WALL | WNOHANG);
        if (w > 0) hold_dispatch(w, status, t);
        else if (w < 0 && errno != EINTR) break;
        else nanosleep(&(struct timespec){0, 100000}, NULL);
        waiting = 0;
        for (struct ml_thread *u = ml_threads_all(); u; u = u->hh.next)
            waiting |= u->proc == p && u != t && !u->at_exit && !u->past_exit && !u->held;
    }
}

/* Whether the freeres could free nothing memlens reports: the shim numbered
 * no event (no allocation, so no buffer of the C library's or of libstdc++'s
 * on the heap), nothing was inherited live, and the process never had a
 * second thread (whose cached stack the freeres would unmap). */
static int nothing_to_free(struct ml_proc *p)
{
    const struct ml_header *h = ml_session_header(p->session);
    return __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE) == 0 &&
           ml_blocks_stats(ml_session_blocks(p->session))->live_blocks == 0 &&
           p->nthreads == 1 && p->ngone == 0;
}

/* exit_group's first entry in a recorded process: run its freeres first
 * (freeres.h), then let it enter exit_group again.  Returns 1 when it did. */
static int freeres_first(struct ml_thread *t)
{
    struct ml_proc *p = t->proc;
    if (!g_cfg->freeres || p->freeres_done || !p->session || !p->report_it) return 0;
    if (nothing_to_free(p)) return 0;
    p->freeres_done = 1;
    hold_others(p, t);
    int rc = ml_freeres_run(t->tid, g_cfg->freeres, FREERES_TIMEOUT, hold_dispatch, t);
    if (rc == ML_FREERES_NONE) return 0;      /* exit_group goes on from this stop */
    p->freeres_error = rc;
    if (rc != -ESRCH) resume(t->tid, 0);
    return 1;
}

/* A process that asks to trace another (a debugger, strace) will be
 * refused, as every process here has memlens as its tracer: say why, once. */
static void note_ptrace(struct ml_proc *p, long request)
{
    if (p->noted_ptrace || (request != PTRACE_TRACEME && request != PTRACE_ATTACH &&
                            request != PTRACE_SEIZE))
        return;
    p->noted_ptrace = 1;
    if (g_cfg->on_note) g_cfg->on_note(p, ML_NOTE_PTRACE, g_cfg->ctx);
}

/* The argument vector at addr in tid, up to 256 strings (malloc'd, NULL-terminated). */
static char **tracee_argv(int tid, uint64_t addr)
{
    enum { MAX_ARGS = 256 };
    char **v = calloc(MAX_ARGS + 1, sizeof *v);
    for (size_t i = 0; v && addr && i < MAX_ARGS; i++) {
        uint64_t ptr = 0;
        struct iovec l = {&ptr, sizeof ptr}, rm = {(void *)(addr + 8 * i), sizeof ptr};
        if (process_vm_readv(tid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof ptr || !ptr) break;
        if (!(v[i] = ml_tracee_string(tid, ptr))) break;
    }
    return v;
}

/* At an execve entry of a traced process: whether its new image is traced.
 * The root's first exec starts the program; later ones follow the policy. */
static int exec_is_traced(struct ml_thread *t, const uint64_t *r, int at)
{
    struct ml_proc *p = t->proc;
    if (!g_cfg->children || (p->pid == g_cfg->root_pid && p->images == 0)) return 1;
    if (!g_cfg->children->trace) return 0;
    char *path = ml_tracee_string(t->tid, REG_ARG(r, at ? 1 : 0));
    char **argv = g_cfg->children->skip_by_arg ? tracee_argv(t->tid, REG_ARG(r, at ? 2 : 1)) : NULL;
    int traced = ml_children_trace_exec(g_cfg->children, path, argv);
    for (size_t i = 0; argv && argv[i]; i++) free(argv[i]);
    free(argv);
    free(path);
    return traced;
}

/* Seccomp stop at a watched syscall's entry: note it, and for the memory
 * syscalls ask for the exit stop to see the result. */
static void on_seccomp(struct ml_thread *t)
{
    struct ml_proc *p = t->proc;
    uint64_t r[ML_NREGS] = {0};
    if (ml_read_regs(t->tid, r) != 0) {
        resume(t->tid, 0);
        return;
    }
    long nr = (long)r[REG_ORIG_RAX];
    if (nr == SYS_exit_group) {
        if (freeres_first(t)) return;
        p->group_exiting = 1;
    }
    if (nr == SYS_execve || nr == SYS_execveat) {
        p->execing = 1;
        p->exec_traced = p->report_it && exec_is_traced(t, r, nr == SYS_execveat);
        if (p->report_it && g_cfg->envfix)
            (p->exec_traced ? ml_envfix_execve : ml_envfix_strip)(t->tid, r, nr == SYS_execve ? 12 : 7,
                                                                  g_cfg->envfix);
    }
    t->sc_adopting = nr == SYS_mmap && maybe_adopt(p, r);
    t->sc_in_alloc = nr == SYS_mmap && inside_alloc_call(p, t->tid, r);
    if (nr == SYS_ptrace) note_ptrace(p, (long)REG_ARG(r, 0));
    if (nr == SYS_clone3) note_new_stack(t, r);
    if (syscall_index(nr) < 0 || session_shm_call(p, nr, r)) {
        resume(t->tid, 0);
        return;
    }
    if (nr == SYS_brk && brk_surely_succeeds(p, REG_ARG(r, 0))) {
        ml_memtrace_count(&p->mt, ML_SC_BRK);      /* recorded now: no exit stop */
        ml_memtrace_brk(&p->mt, REG_ARG(r, 0), ml_now());
        resume(t->tid, 0);
        return;
    }
    t->sc_nr = nr;
    for (int i = 0; i < 6; i++) t->sc_args[i] = REG_ARG(r, i);
    ptrace(PTRACE_SYSCALL, t->tid, 0, 0);
}

static void note_posix_shm(struct ml_proc *p, int fd)
{
    char path[64], link[512];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", p->pid, fd);
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len <= 0) return;
    link[len] = '\0';
    if (strncmp(link, "/dev/shm/", 9) == 0) ml_memtrace_posix_shm(&p->mt, link);
}

/* The watched syscall has returned: record what it did to the memory map. */
static void on_syscall_exit(struct ml_thread *t)
{
    struct ml_proc *p = t->proc;
    struct ml_memtrace *mt = &p->mt;
    uint64_t r[ML_NREGS] = {0}, *a = t->sc_args;
    long nr = t->sc_nr;
    t->sc_nr = -1;
    if (ml_read_regs(t->tid, r) != 0) return;
    uint64_t res = r[10];                      /* rax */
    int ok = res < (uint64_t)-4095;
    double now = ml_now();
    ml_memtrace_count(mt, syscall_index(nr));
    if (!ok && t->sc_adopting && p->session) {
        /* The shim could not map its session (an address-space limit): it
         * records nothing, and the report says so. */
        ml_session_close(p->session);
        p->session = NULL;
        p->session_error = -(int)res;
    }
    t->sc_adopting = 0;
    if (!ok) return;
    switch (nr) {
    case SYS_brk: ml_memtrace_brk(mt, res, now); break;
    case SYS_mmap:
        ml_memtrace_mmap(mt, res, a[1], (int)a[2], (int)a[3], now);
        if (t->sc_in_alloc) ml_memtrace_mark_allocator(mt, res, a[1]);
        if ((int)a[4] >= 0 && (a[3] & MAP_SHARED)) note_posix_shm(p, (int)a[4]);
        break;
    case SYS_munmap: ml_memtrace_munmap(mt, a[0], a[1], now); break;
    case SYS_mremap: ml_memtrace_mremap(mt, a[0], a[1], res, a[2], now); break;
    case SYS_mprotect: ml_memtrace_mprotect(mt, a[0], a[1], (int)a[2]); break;
    case SYS_shmget: ml_memtrace_shmget(mt, (int)res, (int64_t)(int)a[0], a[1]); break;
    case SYS_shmat: ml_memtrace_shmat(mt, (int)a[0], res, 0, now); break;
    case SYS_shmdt: ml_memtrace_shmdt(mt, a[0], now); break;
    case SYS_shmctl:
        if (((int)a[1] & 0xff) == IPC_RMID) ml_memtrace_shm_rmid(mt, (int)a[0]);
        break;
    }
}

static void on_exec(struct ml_thread *t)
{
    unsigned long former = 0;
    struct ml_proc *p = t->proc;
    ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &former);
    if ((int)former != t->tid) {
        struct ml_thread *old = ml_thread_find((int)former);
        if (old) ml_thread_remove(old);
    }
    /* The old image's allocations and mappings are gone with it. */
    ml_session_close(p->session);
    ml_memtrace_free(&p->mt);
    ml_memtrace_init(&p->mt, ml_now());
    ml_inherit_free(&p->inh);
    p->session = NULL;
    p->execing = 0;
    p->forked = 0;
    p->ngone = 0;
    p->images++;
    if (!p->exec_traced) p->report_it = 0;   /* it and what it starts run untraced */
    ml_proc_read_identity(p);
    if (g_cfg->on_note) g_cfg->on_note(p, ML_NOTE_EXEC, g_cfg->ctx);
    if (p->report_it && g_cfg->on_process_start) g_cfg->on_process_start(p, 0, g_cfg->ctx);
}

static void remember_gone(struct ml_proc *p, struct ml_thread *t)
{
    struct ml_thread_state *g = realloc(p->gone, (p->ngone + 1) * sizeof *g);
    if (!g) return;
    p->gone = g;
    memset(&g[p->ngone], 0, sizeof g[0]);
    g[p->ngone].tid = t->tid;
    g[p->ngone].exited = 1;
    g[p->ngone].sp = t->regs[ML_REG_SP];
    g[p->ngone].stack_lo = t->stack_lo;
    g[p->ngone].stack_hi = t->stack_hi;
    p->ngone++;
}

/* All threads of p are held at exit: snapshot, release, hand over. */
/* The live blocks of p as recorded so far, or NULL. */
static const struct ml_blocks *proc_blocks(const struct ml_proc *p)
{
    return p->session ? ml_session_blocks(p->session) : p->inh.blocks;
}

/* A thread of p that can still be read: one held at its exit. The leader
 * may have ended long before (pthread_exit in main), and a zombie leader's
 * /proc/PID/maps is empty and its memory unreadable. */
static int readable_tid(const struct ml_proc *p)
{
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == p && t->at_exit) return t->tid;
    return p->pid;
}

static void snapshot_process(const struct ml_loop_config *cfg, struct ml_proc *p)
{
    size_t n = 0, cap = (size_t)p->nthreads + p->ngone + 1;
    struct ml_thread_state *ts = calloc(cap, sizeof *ts);
    struct ml_thread *t;
    struct ml_snapshot *snap = calloc(1, sizeof *snap);
    for (t = ml_threads_all(); ts && t; t = t->hh.next)
        if (t->proc == p && t->at_exit && n < cap) {
            ts[n].tid = t->tid;
            ts[n].sp = t->regs[ML_REG_SP];
            ts[n].stack_lo = t->stack_lo;
            ts[n].stack_hi = t->stack_hi;
            memcpy(ts[n].regs, t->regs, sizeof ts[n].regs);
            n++;
        }
    for (size_t i = 0; ts && i < p->ngone && n < cap; i++) ts[n++] = p->gone[i];
    double t0 = ml_now();
    if (p->report_it) ml_progress_start(p->pid, cfg->quiet);
    ml_progress_phase(ml_progress_now(), "draining the events", 0);
    if (p->session) ml_session_finish(p->session);
    if (p->session) ml_session_freeze(p->session);      /* the snapshot goes beside it */
    else if (p->inh.blocks) ml_blocks_freeze(p->inh.blocks);
    ml_phase_done(p->pid, "drain", t0);
    ml_progress_phase(ml_progress_now(), "reading the memory", 0);
    t0 = ml_now();
    if (snap && ts && p->report_it && ml_capture(readable_tid(p), ts, n, proc_blocks(p), snap) != 0)
        snap->scanned = 0;
    ml_phase_done(p->pid, "capture", t0);
    if (cfg->track_fds && p->report_it)
        ml_fdscan(p->pid, readable_tid(p), &p->fds_seen, &p->nfds_seen);
    if (snap) ml_stat(p->pid, "captured_bytes", snap->bytes_read);
    if (snap) ml_stat(p->pid, "scanned_bytes", snap->bytes_scanned);
    p->snapshot_done = 1;
    for (t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == p && t->at_exit) {
            t->at_exit = 0;
            resume(t->tid, 0);
        }
    free(ts);
    if (p->report_it && snap) cfg->on_process_end(p, snap, cfg->ctx);
    else if (snap) { ml_snapshot_free(snap); free(snap); }
    ml_progress_stop();
}

/* Whether every thread of p that will stop again is held at its exit:
 * a thread that already passed its exit stop (a leader that called
 * pthread_exit stays a zombie until the last thread ends) is not waited for. */
static int all_at_exit(struct ml_proc *p)
{
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == p && !t->at_exit && !t->past_exit) return 0;
    return 1;
}

static int held_at_exit(const struct ml_proc *p)
{
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == p && t->at_exit) return 1;
    return 0;
}

static void on_exit_event(const struct ml_loop_config *cfg, struct ml_thread *t)
{
    struct ml_proc *p = t->proc;
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
    ml_read_regs(t->tid, t->regs);
    int status = (int)msg;
    int whole = p->group_exiting || p->nthreads == 1 || (WIFSIGNALED(status) && !p->execing);
    if (!whole || p->snapshot_done) {
        remember_gone(p, t);
        if (p->session) ml_session_thread_exited(p->session, t->tid);
        t->past_exit = 1;
        resume(t->tid, 0);
        return;
    }
    p->group_exiting = 1;
    t->at_exit = 1;
    if (all_at_exit(p)) snapshot_process(cfg, p);
}

static void on_gone(const struct ml_loop_config *cfg, struct ml_thread *t, int status)
{
    struct ml_proc *p = t->proc;
    int leader = t->tid == p->pid;
    ml_thread_remove(t);
    if (!leader) {
        /* A thread that left while the others wait at exit may complete the set. */
        if (p->group_exiting && !p->snapshot_done && p->nthreads > 0 && all_at_exit(p))
            snapshot_process(cfg, p);
        return;
    }
    p->wait_status = status;
    if (!p->snapshot_done && p->report_it) {
        struct ml_snapshot *snap = calloc(1, sizeof *snap);
        if (p->session) ml_session_finish(p->session);
        p->snapshot_done = 1;
        if (snap) cfg->on_process_end(p, snap, cfg->ctx);
    }
    p->reaped = 1;
    if (cfg->on_reaped) cfg->on_reaped(p, cfg->ctx);
}

/* A new thread reusing a stack (glibc caches them) makes the frames that
 * ended threads left there meaningless: drop their stack pointers. */
static void forget_stack_users(const struct ml_thread *c)
{
    struct ml_proc *p = c->proc;
    size_t k = 0;
    for (size_t i = 0; i < p->ngone; i++) {
        const struct ml_thread_state *g = &p->gone[i];
        if (c->stack_lo && g->sp >= c->stack_lo && g->sp < c->stack_hi) continue;
        p->gone[k++] = *g;
    }
    p->ngone = k;
}

static void on_new_task(struct ml_thread *t, int event)
{
    unsigned long child = 0;
    if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &child) != 0 || child == 0) return;
    struct ml_thread *c = ml_thread_get((int)child);
    if (!c) return;
    if (c->proc == t->proc) {                         /* a thread */
        c->stack_lo = t->new_stack_lo;
        c->stack_hi = t->new_stack_hi;
        forget_stack_users(c);
        return;
    }
    if (c->proc->mt.nmaps == 0) ml_memtrace_inherit(&c->proc->mt, &t->proc->mt);
    c->proc->forked = 1;
    c->proc->report_it = t->proc->report_it;
    if (c->proc->report_it && g_cfg->on_process_start) g_cfg->on_process_start(c->proc, 1, g_cfg->ctx);
    /* A vfork child shares its parent's memory until it execs or exits. */
    if (event != PTRACE_EVENT_VFORK && c->proc->report_it) ml_proc_inherit(c->proc, t->proc);
    else if (c->proc->report_it) ml_proc_inherit_fds(c->proc, t->proc);
}

static void on_stop(const struct ml_loop_config *cfg, struct ml_thread *t, int status)
{
    int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
    switch (event) {
    case PTRACE_EVENT_SECCOMP: on_seccomp(t); break;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: on_new_task(t, event); resume(t->tid, 0); break;
    case PTRACE_EVENT_EXEC: on_exec(t); resume(t->tid, 0); break;
    case PTRACE_EVENT_EXIT: on_exit_event(cfg, t); break;
    case PTRACE_EVENT_STOP:
        if (t->started && (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
            ptrace(PTRACE_LISTEN, t->tid, 0, 0);     /* group-stop: stay stopped */
        else
            resume(t->tid, 0);
        break;
    default:
        if (sig == (SIGTRAP | 0x80)) {          /* syscall-exit stop we asked for */
            if (t->sc_nr >= 0) on_syscall_exit(t);
            resume(t->tid, 0);
        } else {
            resume(t->tid, sig);                /* deliver the signal */
        }
    }
    t->started = 1;
}

/* One stop or death of tid. */
static void dispatch(pid_t tid, int status)
{
    struct ml_thread *t = ml_thread_get(tid);
    if (!t) return;                /* out of memory: it stays stopped */
    if (WIFEXITED(status) || WIFSIGNALED(status)) on_gone(g_cfg, t, status);
    else if (WIFSTOPPED(status)) on_stop(g_cfg, t, status);
}

static void forward_pending(const struct ml_loop_config *cfg)
{
    int sig = pending_signal;
    pending_signal = 0;
    if (!sig) return;
    kill(cfg->root_pid, sig);
    /* A process held at its exit waits for no more threads once memlens is told to end. */
    for (struct ml_proc *p = ml_proc_first(); p; p = p->next)
        if (p->group_exiting && !p->snapshot_done && !p->reaped && held_at_exit(p))
            snapshot_process(cfg, p);
}

/* The next stop of any traced thread.  A stop wakes memlens through the
 * scheduler, and on a virtual machine waking a sleeping core costs tens of
 * microseconds: a watched syscall cost about 50 us, mostly that.  When
 * stops come in a burst (the loader's mmaps in every process, the brk
 * calls of a growing heap), memlens polls for the next one for up to
 * SPIN_S before it sleeps.  Polls that find nothing (a stop this soon
 * was not coming) turn polling off until stops come quickly again. */
#define BURST_S 0.001      /* a stop this soon after the last one is a burst */
#define SPIN_S 0.0002      /* longest poll */
#define MISSES_OFF 4       /* polls in a row that found nothing: stop polling */

static pid_t wait_next(int *status)
{
    static double last;
    static int misses;
    double t0 = ml_now();
    if (t0 - last < BURST_S && misses < MISSES_OFF) {
        pid_t w;
        while ((w = waitpid(-1, status, __WALL | WNOHANG)) == 0 && ml_now() - t0 < SPIN_S)
            __builtin_ia32_pause();
        if (w != 0) {
            misses = 0;
            last = ml_now();
            return w;
        }
        misses++;
    }
    pid_t w = waitpid(-1, status, __WALL);
    last = ml_now();
    if (last - t0 < SPIN_S) misses = 0;   /* a poll would have caught it */
    return w;
}

int ml_loop_run(const struct ml_loop_config *cfg)
{
    g_cfg = cfg;
    struct ml_thread *root = ml_thread_get(cfg->root_pid);
    if (!root) return -ENOMEM;
    root->started = 1;
    while (ml_proc_count_live() > 0) {
        int status;
        forward_pending(cfg);
        pid_t tid = wait_next(&status);
        if (tid < 0) {
            if (errno == EINTR) continue;
            if (errno == ECHILD) break;
            return -errno;
        }
        dispatch(tid, status);
    }
    return 0;
}
