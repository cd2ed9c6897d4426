/* attach.c - memlens -p PID (see attach.h).
 *
 * Phases: preflight (read-only checks: the process exists, nobody traces
 * it, it has a dynamic C library with dlopen), seize (every thread seized
 * and interrupted), load (one thread borrowed for ptrace-driven calls while
 * the others run on: dlopen of the shim, memlens_attach_start, adoption,
 * memlens_attach_patch), record (the event loop below, with a sample of the
 * shim's sequence counter every few milliseconds so that events get times),
 * finish (stop, drain, snapshot, restore, detach).
 *
 * Owns: the attach state (struct attach, one per run), the sequence clock
 * and the stop flag set by the signal handlers.  Threads and the process
 * live in procs.c's tables; the session is tracer/session.c's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "attach.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "capture.h"
#include "elfsym.h"
#include "errors.h"
#include "inject.h"
#include "progressline.h"
#include "memlens/attach.h"
#include "memlens/session.h"
#include "session.h"

#define CALL_TIMEOUT 10.0        /* seconds an injected call may take */
#define STOP_TIMEOUT 5.0         /* seconds to wait for every thread to stop */
#define EXIT_HOLD 0.1            /* seconds an exiting thread waits for the others */
#define CLOCK_PERIOD 0.005       /* seconds between samples of the sequence counter */
#define PICK_TRIES 40            /* times to look for a thread that is safe to borrow */
#define ERESTARTSYS 512          /* the kernel's restart codes, as rax shows them */
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

struct range { uint64_t lo, hi; };

struct attach {
    const struct ml_attach_config *cfg;
    int pid;
    struct ml_proc *proc;
    int holding;                 /* interrupt stops are kept, not resumed */
    int recording;
    int reaped, execed;          /* the process ended / replaced its image */
    char shim[PATH_MAX];         /* the shim's real path */
    uint64_t dlopen_fn, dlerror_fn, start_fn, patch_fn, table;
    struct range unsafe[8];      /* code of libc and the loader: not a place to borrow a thread */
    int nunsafe;
    struct ml_inject inj;
    int borrowed;                /* inj holds a thread's saved state */
    struct ml_session *session;
    int memfd;                   /* our descriptor of the session file, -1 none */
    double t0;                   /* recording started (monotonic seconds) */
};

static volatile sig_atomic_t g_stop;

/* ---- sequence clock: event sequence number -> seconds ---------------------- */

static struct {
    double *t;                   /* seconds since recording started */
    uint64_t *seq;               /* the shim's next sequence number then */
    size_t n, cap;
    double snapshot;
} g_clock;

static void clock_add(double t, uint64_t seq)
{
    if (g_clock.n && g_clock.seq[g_clock.n - 1] == seq) return;
    if (g_clock.n == g_clock.cap) {
        size_t cap = g_clock.cap ? g_clock.cap * 2 : 4096;
        double *t2 = realloc(g_clock.t, cap * sizeof *t2);
        if (t2) g_clock.t = t2;
        uint64_t *s2 = t2 ? realloc(g_clock.seq, cap * sizeof *s2) : NULL;
        if (!s2) return;
        g_clock.seq = s2;
        g_clock.cap = cap;
    }
    g_clock.t[g_clock.n] = t;
    g_clock.seq[g_clock.n++] = seq;
}

double ml_attach_seq_seconds(void *unused, uint64_t seq)
{
    (void)unused;
    size_t lo = 0, hi = g_clock.n;   /* first sample whose counter is past seq */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_clock.seq[mid] <= seq) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return 0;
    if (lo == g_clock.n) return g_clock.n ? g_clock.t[g_clock.n - 1] : 0;
    double t0 = g_clock.t[lo - 1], t1 = g_clock.t[lo];
    uint64_t s0 = g_clock.seq[lo - 1], s1 = g_clock.seq[lo];
    return t0 + (t1 - t0) * ((double)(seq - s0) + 0.5) / (double)(s1 - s0);
}

double ml_attach_snapshot_seconds(void)
{
    return g_clock.snapshot;
}

static void clock_sample(struct attach *a)
{
    struct ml_header *h = ml_session_header(a->session);
    clock_add(ml_now() - a->t0, __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE));
}

/* ---- signals ------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

void ml_attach_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* ---- errors ---------------------------------------------------------------- */

static int failure(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failure(int rc, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ml_error("%s", buf);
    return rc;
}

static int not_allowed(int pid, int err)
{
    char now[32] = "no Yama here";
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    int scope;
    if (f && fscanf(f, "%d", &scope) == 1) snprintf(now, sizeof now, "now %d", scope);
    if (f) fclose(f);
    return failure(-err, "-p %d: not allowed to trace it (%s): trace your own processes with "
                   "kernel.yama.ptrace_scope 0 or 1 (%s), or run memlens with CAP_SYS_PTRACE",
                   pid, strerror(err), now);
}

/* A process that is gone or a zombie: it exited. */
static int process_gone(int pid)
{
    char *st = ml_read_proc_file(pid, "stat", NULL);
    const char *paren = st ? strrchr(st, ')') : NULL;
    int gone = !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
    free(st);
    return gone;
}

static int exited_during_attach(struct attach *a)
{
    return failure(-ESRCH, "-p %d: the process exited during the attach", a->pid);
}

/* ---- preflight ------------------------------------------------------------ */

static int status_int(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    return p ? atoi(p + strlen(key)) : -1;
}

static void comm_of(int pid, char *out, size_t len)
{
    char *c = ml_read_proc_file(pid, "comm", NULL);
    snprintf(out, len, "%s", c ? c : "?");
    out[strcspn(out, "\n")] = '\0';
    free(c);
}

static int check_tracer(struct attach *a)
{
    char *status = ml_read_proc_file(a->pid, "status", NULL);
    if (!status) return errno == ENOENT ? failure(-ESRCH, "-p %d: no such process", a->pid)
                                        : not_allowed(a->pid, errno);
    int tracer = status_int(status, "\nTracerPid:");
    free(status);
    if (tracer > 0) {
        char name[64];
        comm_of(tracer, name, sizeof name);
        return failure(-EBUSY, "-p %d: already traced by process %d (%s): detach that debugger "
                       "first", a->pid, tracer, name);
    }
    if (a->pid == getpid()) return failure(-EINVAL, "-p %d: memlens cannot trace itself", a->pid);
    return 0;
}

/* Executable code of libc and the dynamic loader, from the memory map. */
static void find_unsafe_text(struct attach *a)
{
    char *maps = ml_read_proc_file(a->pid, "maps", NULL);
    for (char *line = maps; line && *line && a->nunsafe < 8;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        unsigned long long lo, hi;
        char perms[8];
        const char *path = strchr(line, '/');
        if (path && sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3 && perms[2] == 'x' &&
            (ml_module_named(path, "libc.so") || ml_module_named(path, "libc-") ||
             ml_module_named(path, "ld-linux")))
            a->unsafe[a->nunsafe++] = (struct range){lo, hi};
        line = nl ? nl + 1 : NULL;
    }
    free(maps);
}

static int find_libc(struct attach *a)
{
    struct ml_module libc;
    int rc = ml_module_find(a->pid, ml_module_named, "libc.so", &libc);
    if (rc == -ENOENT) rc = ml_module_find(a->pid, ml_module_named, "libc-", &libc);
    if (rc == -EACCES || rc == -EPERM) return not_allowed(a->pid, -rc);
    if (rc == -ENOENT)
        return failure(-ENOEXEC, "-p %d: the program is statically linked (no libc.so in its "
                       "memory map): memlens cannot load its library into it", a->pid);
    if (rc) return failure(rc, "-p %d: cannot read its memory map: %s", a->pid, strerror(-rc));
    rc = ml_module_symbol(a->pid, &libc, "dlopen", &a->dlopen_fn);
    if (rc == -ENOENT) rc = ml_module_symbol(a->pid, &libc, "__libc_dlopen_mode", &a->dlopen_fn);
    if (rc == -ENOEXEC)
        return failure(rc, "-p %d: %s is not a 64-bit x86 library: only x86-64 processes "
                       "can be attached", a->pid, libc.path);
    if (rc) return failure(-ENOEXEC, "-p %d: no dlopen in %s: memlens cannot load its "
                           "library into it", a->pid, libc.path);
    if (ml_module_symbol(a->pid, &libc, "dlerror", &a->dlerror_fn) != 0) a->dlerror_fn = 0;
    return 0;
}

/* The state letter of task tid of pid (/proc/PID/task/TID/stat), or 0. */
static char task_state(int pid, int tid)
{
    char name[64];
    snprintf(name, sizeof name, "task/%d/stat", tid);
    char *st = ml_read_proc_file(pid, name, NULL);
    const char *paren = st ? strrchr(st, ')') : NULL;
    char c = paren && paren[1] == ' ' ? paren[2] : 0;
    free(st);
    return c;
}

/* Whether a thread of pid other than the leader is alive. */
static int other_thread_lives(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    int lives = 0;
    for (struct dirent *e; d && !lives && (e = readdir(d));) {
        int tid = atoi(e->d_name);
        char c = tid > 0 && tid != pid ? task_state(pid, tid) : 0;
        lives = c && c != 'Z' && c != 'X';
    }
    if (d) closedir(d);
    return lives;
}

/* A zombie leader, or a stopped process: why memlens cannot attach now. */
static int check_state(struct attach *a)
{
    char leader = task_state(a->pid, a->pid);
    if ((leader == 'Z' || leader == 'X') && other_thread_lives(a->pid))
        return failure(-ESRCH, "-p %d: its main thread has ended (pthread_exit) while other threads "
                       "run on: memlens cannot attach to such a process", a->pid);
    if (process_gone(a->pid))
        return failure(-ESRCH, "-p %d: the process has exited (a zombie waiting for its parent)", a->pid);
    if (leader == 'T')
        return failure(-EAGAIN, "-p %d: the process is stopped (job control or SIGSTOP): memlens "
                       "must run code in it to attach; continue it (kill -CONT %d) and attach "
                       "again", a->pid, a->pid);
    return 0;
}

/* The target loads the shim by the path memlens has: its mount namespace
 * (a container's own root) must show a file there (the session's version
 * check refuses a shim of another version). */
static int check_shim_visible(struct attach *a)
{
    char theirs[PATH_MAX + 64];
    struct stat seen;
    snprintf(theirs, sizeof theirs, "/proc/%d/root%s", a->pid, a->shim);
    if (stat(theirs, &seen) == 0) return 0;
    if (errno == EACCES || errno == EPERM) return 0;    /* cannot tell: let dlopen say */
    return failure(-ENOENT, "-p %d: the process sees another file system (its own mount "
                   "namespace, as in a container): %s is not there for it; make the file "
                   "visible at that path in it (a bind mount), then attach again", a->pid, a->shim);
}

static int preflight(struct attach *a)
{
    int rc = check_tracer(a);
    if (rc == 0) rc = check_state(a);
    if (rc == 0) rc = find_libc(a);
    if (rc == 0 && !realpath(a->cfg->shim, a->shim))
        rc = failure(-errno, "%s: %s", a->cfg->shim, strerror(errno));
    if (rc == 0) rc = check_shim_visible(a);
    if (rc == 0) find_unsafe_text(a);
    return rc;
}

/* ---- stops ------------------------------------------------------------------ */

static void resume(struct ml_thread *t, int sig)
{
    t->held = 0;
    ptrace(PTRACE_CONT, t->tid, 0, (void *)(long)sig);
}

static void thread_gone(struct attach *a, struct ml_thread *t, int status)
{
    if (t->tid == a->pid) {
        a->proc->wait_status = status;
        a->reaped = 1;
    }
    if (a->session) ml_session_thread_exited(a->session, t->tid);
    ml_thread_remove(t);
}

static void on_exit_stop(struct attach *a, struct ml_thread *t)
{
    ml_read_regs(t->tid, t->regs);
    t->at_exit = 1;
    t->held = 1;
    t->held_since = ml_now();
    if (!a->recording && !a->holding) resume(t, 0);   /* before recording: let it go */
}

static void on_event_stop(struct attach *a, struct ml_thread *t, int sig)
{
    if (a->holding) {
        t->held = 1;
    } else if (t->started && sig != SIGTRAP) {
        ptrace(PTRACE_LISTEN, t->tid, 0, 0);           /* group-stop: stay stopped */
    } else {
        resume(t, 0);           /* a new thread's first stop, or a stale interrupt */
    }
}

static void note_clone(struct ml_thread *t)
{
    unsigned long child = 0;
    if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &child) == 0 && child) ml_thread_get((int)child);
}

/* One stop or death of tid (also the callback of ml_inject_call). */
static void dispatch(int tid, int status, void *ctx)
{
    struct attach *a = ctx;
    struct ml_thread *t = ml_thread_find(tid);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        if (t) thread_gone(a, t, status);
        return;
    }
    if (!WIFSTOPPED(status)) return;
    if (!t && !(t = ml_thread_get(tid))) {
        ptrace(PTRACE_DETACH, tid, 0, 0);
        return;
    }
    int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
    switch (event) {
    case PTRACE_EVENT_CLONE: note_clone(t); resume(t, 0); break;
    case PTRACE_EVENT_EXEC: a->execed = 1; t->held = 1; break;
    case PTRACE_EVENT_EXIT: on_exit_stop(a, t); break;
    case PTRACE_EVENT_STOP: on_event_stop(a, t, sig); break;
    default: resume(t, sig == (SIGTRAP | 0x80) ? 0 : sig);   /* deliver the signal */
    }
    t->started = 1;
}

/* Handle every stop already waiting. Returns how many. */
static int pump(struct attach *a)
{
    int n = 0, status;
    pid_t w;
    while ((w = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
        dispatch(w, status, a);
        n++;
    }
    return n;
}

static void nap(long ns)
{
    nanosleep(&(struct timespec){0, ns}, NULL);
}

static int all_held(struct attach *a)
{
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == a->proc && !t->held) return 0;
    return 1;
}

/* Interrupt every running thread and wait until all are held. */
static int stop_all(struct attach *a, double timeout)
{
    a->holding = 1;
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == a->proc && !t->held) ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
    double deadline = ml_now() + timeout;
    while (!a->reaped && !all_held(a)) {
        if (pump(a) == 0) {
            if (ml_now() > deadline) return -ETIMEDOUT;
            nap(200000);
        }
    }
    return a->reaped ? -ESRCH : 0;
}

/* Resume every held thread but `keep` (may be NULL). */
static void release_all(struct attach *a, const struct ml_thread *keep)
{
    a->holding = 0;
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == a->proc && t->held && t != keep) resume(t, 0);
}

static void detach_all(struct attach *a)
{
    struct ml_thread *t, *next;
    for (t = ml_threads_all(); t; t = next) {
        next = t->hh.next;
        if (t->proc != a->proc) continue;
        ptrace(PTRACE_DETACH, t->tid, 0, 0);
        ml_thread_remove(t);
    }
}

/* ---- seize ---------------------------------------------------------------- */

#define ATTACH_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | \
                        PTRACE_O_TRACEEXIT)

/* Whether tid is traced by memlens already (a clone it was told about). */
static int traced_by_us(int tid)
{
    char *status = ml_read_proc_file(tid, "status", NULL);
    int tracer = status ? status_int(status, "\nTracerPid:") : -1;
    free(status);
    return tracer == getpid();
}

static int seize_one(struct attach *a, int tid)
{
    if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)ATTACH_OPTIONS) != 0) {
        int err = errno;
        if (err == ESRCH) return 0;                     /* it ended meanwhile */
        if (err == EPERM && traced_by_us(tid)) return ml_thread_get(tid) ? 0 : -ENOMEM;
        if (!a->proc) return err == EPERM ? not_allowed(a->pid, err)
                                          : failure(-err, "-p %d: %s", a->pid, strerror(err));
        return failure(-err, "-p %d: cannot trace thread %d: %s", a->pid, tid, strerror(err));
    }
    struct ml_thread *t = ml_thread_get(tid);
    if (!t) return -ENOMEM;
    if (!a->proc) a->proc = t->proc;
    t->started = 1;
    ptrace(PTRACE_INTERRUPT, tid, 0, 0);
    return 0;
}

/* Seize the threads listed in /proc/PID/task; returns how many were new. */
static int seize_listed(struct attach *a)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", a->pid);
    DIR *d = opendir(path);
    if (!d) return a->proc ? exited_during_attach(a) : failure(-ESRCH, "-p %d: no such process", a->pid);
    int added = 0, rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        int tid = atoi(de->d_name);
        if (tid <= 0 || ml_thread_find(tid)) continue;
        rc = seize_one(a, tid);
        added += rc == 0;
    }
    closedir(d);
    return rc ? rc : added;
}

static int seize_all(struct attach *a)
{
    a->holding = 1;
    int rc = 0;
    for (int round = 0; round < 100 && (rc = seize_listed(a)) > 0; round++) {}
    if (rc < 0) return rc;
    if (!a->proc) return failure(-ESRCH, "-p %d: no such process", a->pid);
    rc = stop_all(a, STOP_TIMEOUT);
    if (rc == -ESRCH || process_gone(a->pid)) return exited_during_attach(a);
    if (rc) return failure(rc, "-p %d: its threads did not stop within %.0f s", a->pid, STOP_TIMEOUT);
    return 0;
}

/* ---- which thread to borrow ------------------------------------------------- */

static int in_unsafe_text(const struct attach *a, uint64_t ip)
{
    for (int i = 0; i < a->nunsafe; i++)
        if (ip >= a->unsafe[i].lo && ip < a->unsafe[i].hi) return 1;
    return 0;
}

/* How safe it is to run dlopen on t now: 3 blocked in a system call
 * (it holds no allocator or loader lock), 2 waiting on a futex (it may
 * hold another lock), 1 in the program's own code, 0 inside libc or the
 * loader (maybe inside malloc, holding its lock). Doubled, +1 for the
 * main thread. -1 when it cannot be used. */
static int borrow_score(const struct attach *a, const struct ml_thread *t)
{
    struct user_regs_struct r;
    if (t->at_exit || ptrace(PTRACE_GETREGS, t->tid, 0, &r) != 0) return -1;
    long nr = (long)r.orig_rax, rv = -(long)r.rax;
    int blocked = nr >= 0 && (rv == ERESTARTSYS || rv == ERESTARTNOINTR || rv == ERESTARTNOHAND ||
                              rv == ERESTART_RESTARTBLOCK);
    int s = blocked ? (nr == SYS_futex ? 2 : 3) : in_unsafe_text(a, r.rip) ? 0 : 1;
    return 2 * s + (t->tid == a->pid);
}

static struct ml_thread *best_thread(struct attach *a, int *score)
{
    struct ml_thread *best = NULL;
    *score = -1;
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next) {
        int s = t->proc == a->proc && t->held ? borrow_score(a, t) : -1;
        if (s > *score) { *score = s; best = t; }
    }
    return best;
}

/* A held thread that is safe to borrow, letting the process run a little
 * between tries; the best one found when none is. */
static struct ml_thread *pick_thread(struct attach *a)
{
    struct ml_thread *t = NULL;
    int score = -1;
    for (int i = 0; i < PICK_TRIES; i++) {
        t = best_thread(a, &score);
        if (score >= 2) return t;
        release_all(a, NULL);
        nap(5000000);
        if (stop_all(a, STOP_TIMEOUT) != 0) return NULL;
    }
    return score >= 0 ? t : NULL;
}

/* ---- loading the shim ----------------------------------------------------- */

static int call(struct attach *a, const char *what, uint64_t fn, const uint64_t *args, int n,
                uint64_t *ret)
{
    int rc = ml_inject_call(&a->inj, fn, args, n, CALL_TIMEOUT, dispatch, a, ret);
    if (rc == 0) return 0;
    if (rc == -ESRCH || process_gone(a->pid)) return exited_during_attach(a);
    if (rc == -ETIMEDOUT)
        return failure(rc, "-p %d: %s did not return within %.0f s in thread %d (it may wait "
                       "for a lock that thread holds)", a->pid, what, CALL_TIMEOUT, a->inj.tid);
    if (rc == -EFAULT)
        return failure(rc, "-p %d: %s faulted in thread %d", a->pid, what, a->inj.tid);
    return failure(rc, "-p %d: cannot call %s: %s", a->pid, what, strerror(-rc));
}

/* dlerror()'s sentence after a failed dlopen in the target. */
static void target_dlerror(struct attach *a, char *out, size_t len)
{
    uint64_t msg = 0;
    snprintf(out, len, "dlopen failed");
    if (!a->dlerror_fn || ml_inject_call(&a->inj, a->dlerror_fn, NULL, 0, CALL_TIMEOUT, dispatch,
                                         a, &msg) != 0 || !msg)
        return;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", a->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? pread(fd, out, len - 1, (off_t)msg) : -1;
    if (fd >= 0) close(fd);
    out[got > 0 ? got : 0] = '\0';
    out[strnlen(out, len - 1)] = '\0';
}

static int same_path(const char *path, void *want)
{
    return strcmp(path, want) == 0;
}

static int find_entry_points(struct attach *a)
{
    struct ml_module shim;
    int rc = ml_module_find(a->pid, same_path, a->shim, &shim);
    if (rc == 0) rc = ml_module_symbol(a->pid, &shim, ML_ATTACH_START, &a->start_fn);
    if (rc == 0) rc = ml_module_symbol(a->pid, &shim, ML_ATTACH_PATCH, &a->patch_fn);
    if (rc == 0) rc = ml_module_symbol(a->pid, &shim, ML_ATTACH_TABLE, &a->table);
    if (rc) return failure(rc, "%s: no attach entry points in the loaded library (%s)", a->shim,
                           strerror(-rc));
    return 0;
}

static int open_shim(struct attach *a)
{
    uint64_t path, handle = 0;
    int rc = ml_inject_put(&a->inj, a->shim, strlen(a->shim) + 1, &path);
    if (rc) return failure(rc, "-p %d: cannot write to its stack: %s", a->pid, strerror(-rc));
    uint64_t args[2] = {path, RTLD_NOW};
    if ((rc = call(a, "dlopen", a->dlopen_fn, args, 2, &handle)) != 0) return rc;
    if (!handle) {
        char why[512];
        target_dlerror(a, why, sizeof why);
        return failure(-ENOEXEC, "-p %d: the process could not load %s: %s", a->pid, a->shim, why);
    }
    return find_entry_points(a);
}

/* memlens_attach_start, adoption of the session, memlens_attach_patch. */
static int start_session(struct attach *a)
{
    uint64_t ret, frames = (uint64_t)a->cfg->num_callers;
    int rc = call(a, ML_ATTACH_START, a->start_fn, &frames, 1, &ret);
    if (rc) return rc;
    if ((int64_t)ret < 0)
        return failure((int)(int64_t)ret, "-p %d: the shim could not create its session: %s",
                       a->pid, strerror(-(int)(int64_t)ret));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", a->pid, (int)ret);
    a->memfd = open(path, O_RDWR | O_CLOEXEC);
    a->session = ml_session_adopt(a->pid, (int)ret, NULL);
    if (!a->session)
        return failure(-errno, "-p %d: cannot map the shim's session: %s", a->pid, strerror(errno));
    a->proc->session = a->session;
    if ((rc = call(a, ML_ATTACH_PATCH, a->patch_fn, NULL, 0, &ret)) != 0) return rc;
    if ((int64_t)ret < 0)
        return failure((int)(int64_t)ret, "-p %d: the shim could not redirect the allocation "
                       "functions: %s", a->pid, strerror(-(int)(int64_t)ret));
    return 0;
}

static int load_shim(struct attach *a)
{
    struct ml_thread *t = pick_thread(a);
    if (!t) return process_gone(a->pid) ? exited_during_attach(a)
                                        : failure(-EAGAIN, "-p %d: no thread to borrow", a->pid);
    release_all(a, t);              /* the others run on: they may hold locks dlopen needs */
    int rc = ml_inject_begin(&a->inj, t->tid);
    if (rc) return failure(rc, "-p %d: cannot read thread %d: %s", a->pid, t->tid, strerror(-rc));
    a->borrowed = 1;
    rc = open_shim(a);
    if (rc == 0) rc = start_session(a);
    if (rc) return rc;
    a->borrowed = 0;
    if ((rc = ml_inject_end(&a->inj)) != 0)
        return failure(rc, "-p %d: cannot restore thread %d: %s", a->pid, t->tid, strerror(-rc));
    resume(t, 0);
    return 0;
}

/* ---- undoing -------------------------------------------------------------- */

/* Put back every GOT entry the shim rewrote (through /proc/PID/mem, which
 * writes read-only pages too).  Returns the number restored. */
static int restore_got(struct attach *a)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", a->pid);
    int fd = a->table ? open(path, O_RDWR | O_CLOEXEC) : -1;
    struct ml_patch_table hdr;
    int restored = 0;
    if (fd < 0) return 0;
    if (pread(fd, &hdr, offsetof(struct ml_patch_table, e), (off_t)a->table) ==
            (ssize_t)offsetof(struct ml_patch_table, e) && hdr.magic == ML_ATTACH_MAGIC) {
        uint32_t n = hdr.count < ML_ATTACH_PATCHES ? hdr.count : ML_ATTACH_PATCHES;
        for (uint32_t i = 0; i < n; i++) {
            struct ml_patch p;
            uint64_t cur;
            off_t at = (off_t)(a->table + offsetof(struct ml_patch_table, e) + i * sizeof p);
            if (pread(fd, &p, sizeof p, at) != (ssize_t)sizeof p ||
                pread(fd, &cur, 8, (off_t)p.slot) != 8 || cur != p.hook)
                continue;              /* unloaded since, or not ours any more */
            restored += pwrite(fd, &p.orig, 8, (off_t)p.slot) == 8;
        }
    }
    close(fd);
    return restored;
}

/* The shim stops recording; the session's pages are given back. */
static void release_session(struct attach *a)
{
    if (a->session) __atomic_store_n(&ml_session_header(a->session)->adopted, 0u, __ATOMIC_RELEASE);
}

static void free_session_file(struct attach *a)
{
    if (a->memfd < 0) return;
    fallocate(a->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)ML_SESSION_SIZE);
    close(a->memfd);
    a->memfd = -1;
}

/* A failed attach: everything back as it was, then detach. */
static void abort_attach(struct attach *a)
{
    release_session(a);
    restore_got(a);
    if (a->borrowed && !a->inj.gone) ml_inject_end(&a->inj);
    a->borrowed = 0;
    if (!a->reaped) stop_all(a, 1.0);
    detach_all(a);
    if (a->session) ml_session_close(a->session);
    if (a->proc) a->proc->session = NULL;
    a->session = NULL;
    free_session_file(a);
}

/* ---- recording -------------------------------------------------------------- */

/* Every thread of the process is held at its exit: the process is ending. */
static int exiting(const struct attach *a)
{
    int any = 0;
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next) {
        if (t->proc != a->proc) continue;
        if (!t->at_exit) return 0;
        any = 1;
    }
    return any;
}

/* A thread held at its exit for EXIT_HOLD while the others run on ended
 * alone (pthread_exit): let it finish. */
static void release_lone_exits(struct attach *a)
{
    double now = ml_now();
    if (exiting(a)) return;
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == a->proc && t->at_exit && t->held && now - t->held_since > EXIT_HOLD) {
            t->at_exit = 0;
            resume(t, 0);
        }
}

/* Until a signal, the duration, or the end of the process image. */
static void record(struct attach *a)
{
    const struct ml_attach_config *c = a->cfg;
    double next = c->interval > 0 ? c->interval : 0;
    while (!g_stop && !a->reaped && !a->execed && !exiting(a)) {
        if (pump(a) == 0) nap((long)(CLOCK_PERIOD * 1e9));
        clock_sample(a);
        double t = ml_now() - a->t0;
        if (c->duration > 0 && t >= c->duration) break;
        if (next > 0 && t >= next) {
            if (c->on_interval) c->on_interval(a->proc, t, c->ctx);
            next += c->interval;
        }
        release_lone_exits(a);
    }
}

/* ---- the end: snapshot, undo, let go ------------------------------------------ */

/* Registers and memory of the process, every thread held. */
static void capture_held(struct attach *a, struct ml_snapshot *snap)
{
    size_t n = 0, cap = 1;
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next) cap += t->proc == a->proc;
    struct ml_thread_state *ts = calloc(cap, sizeof *ts);
    for (struct ml_thread *t = ml_threads_all(); ts && t; t = t->hh.next) {
        if (t->proc != a->proc || !t->held) continue;
        if (!t->at_exit && ml_read_regs(t->tid, t->regs) != 0) continue;
        ts[n].tid = t->tid;
        ts[n].sp = t->regs[ML_REG_SP];
        memcpy(ts[n].regs, t->regs, sizeof ts[n].regs);
        n++;
    }
    if (!ts || ml_capture(a->pid, ts, n, NULL, snap) != 0) snap->scanned = 0;
    free(ts);
}

/* The process is exiting: let its threads die and learn its exit status. */
static void let_exit(struct attach *a)
{
    for (struct ml_thread *t = ml_threads_all(); t; t = t->hh.next)
        if (t->proc == a->proc && t->held) {
            t->at_exit = 0;
            resume(t, 0);
        }
    double deadline = ml_now() + STOP_TIMEOUT;
    while (!a->reaped && ml_now() < deadline)
        if (pump(a) == 0) nap(1000000);
}

static int finish(struct attach *a)
{
    const struct ml_attach_config *c = a->cfg;
    int gone = a->reaped || a->execed;
    if (!gone && !exiting(a) && stop_all(a, STOP_TIMEOUT) == -ESRCH) gone = 1;
    if (a->session) clock_sample(a);
    g_clock.snapshot = ml_now() - a->t0;
    struct ml_snapshot *snap = calloc(1, sizeof *snap);
    ml_progress_start(a->pid, c->quiet);
    ml_progress_phase(ml_progress_now(), "draining the events", 0);
    if (a->session) ml_session_finish(a->session);
    ml_progress_phase(ml_progress_now(), "reading the memory", 0);
    if (snap && !gone) capture_held(a, snap);
    if (!gone) restore_got(a);
    release_session(a);
    int ended = gone || exiting(a);
    if (ended && !a->reaped && !a->execed) let_exit(a);
    else if (!ended) detach_all(a);
    a->proc->reaped = a->reaped;
    if (snap) c->on_process_end(a->proc, snap, c->ctx);
    ml_progress_stop();
    if (a->reaped && c->on_reaped) c->on_reaped(a->proc, c->ctx);
    free_session_file(a);
    if (a->execed) detach_all(a);
    return 0;
}

int ml_attach_run(const struct ml_attach_config *cfg)
{
    struct attach a = {.cfg = cfg, .pid = cfg->pid, .memfd = -1};
    int rc = preflight(&a);
    if (rc == 0) rc = seize_all(&a);
    if (rc == 0) rc = load_shim(&a);
    if (rc) {
        abort_attach(&a);
        return rc;
    }
    a.recording = 1;
    a.t0 = ml_now();
    a.proc->started = a.t0;
    clock_sample(&a);
    release_all(&a, NULL);
    record(&a);
    return finish(&a);
}
