/* main.c - memlens: run (or attach to) a program, report its leaks.
 *
 * Owns the command line's decisions: option errors, output files, which
 * exit status memlens ends with, and every message printed to the user.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "attach.h"
#include "diff.h"
#include "envfix.h"
#include "fdscan.h"
#include "errors.h"
#include "formats.h"
#include "frag.h"
#include "front.h"
#include "jsonload.h"
#include "freeres.h"
#include "growth.h"
#include "image.h"
#include "leaks.h"
#include "loop.h"
#include "memlens/session.h"
#include "model.h"
#include "openfds.h"
#include "options.h"
#include "phases.h"
#include "procs.h"
#include "progressline.h"
#include "regions.h"
#include "render.h"
#include "reportfile.h"
#include "memlens/session.h"
#include "session.h"
#include "spawn.h"
#include "stacktab.h"
#include "suppress.h"
#include "symbols.h"
#include "textlog.h"

static __thread char last_error[512];

void ml_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

const char *ml_last_error(void)
{
    return last_error[0] ? last_error : "unknown error";
}

static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("memlens: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

struct run {
    const struct ml_options *opt;
    int attach;                   /* memlens -p */
    int root_pid;                 /* the program memlens started */
    struct ml_growth *growth;     /* -p --interval */
};

/* The report outputs (--json, --html): their paths and streams.  JSON and
 * HTML are written whole each time processes have ended, a stream per
 * writing, closed after it.  The text goes out process by process (textlog.h). */
enum { OUT_JSON, OUT_HTML, OUT_COUNT };
static struct outputs {
    const char *path[OUT_COUNT];
    FILE *f[OUT_COUNT];
    int failed;                   /* a report could not be written (said) */
} out;

static char **tool_argv;       /* memlens's own arguments (tool_args) */
static struct ml_suppressions *suppressions;
/* The suppression files read, in order: the default one first. */
static const char **supp_files;
static int nsupp_files;
static char *default_supp;

static char **copy_argv(char **argv)
{
    size_t n = 0;
    while (argv && argv[n]) n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) out[i] = strdup(argv[i]);
    return out;
}

static int shm_exists(int shmid)
{
    struct shmid_ds ds;
    return shmctl(shmid, IPC_STAT, &ds) == 0 || (errno != EINVAL && errno != EIDRM);
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* The malloc the shim forwarded p's calls to, 0 unknown. */
static uint64_t real_malloc_of(struct ml_proc *p)
{
    struct ml_header *h = p->session ? ml_session_header(p->session) : NULL;
    return h && __atomic_load_n(&h->guard_known, __ATOMIC_ACQUIRE) ? h->real_malloc : 0;
}

/* Where the allocator keeps its thread-local storage (*size 0: nowhere). */
static int64_t alloc_tls_of(struct ml_proc *p, uint64_t *size)
{
    struct ml_header *h = p->session ? ml_session_header(p->session) : NULL;
    *size = h ? h->alloc_tls_size : 0;
    return h ? h->alloc_tls : 0;
}

static void on_process_end(struct ml_proc *p, struct ml_snapshot *snap, void *ctx)
{
    uint64_t alloc_tls_size = 0;
    int64_t alloc_tls = alloc_tls_of(p, &alloc_tls_size);
    const struct run *run = ctx;
    struct ml_proc_report *r = calloc(1, sizeof *r);
    struct ml_blocks *empty = p->session || p->inh.blocks ? NULL : ml_blocks_new();
    if (!r) goto out;
    if (!(r->stacks = ml_stacktab_new()))
        fprintf(stderr, "memlens: warning: pid %d: out of memory: the report has no stacks\n", p->pid);
    r->pid = p->pid;
    r->ppid = p->ppid;
    r->exe = p->exe ? strdup(p->exe) : NULL;
    r->argv = copy_argv(p->argv);
    r->exit_how = ML_EXIT_UNKNOWN;
    r->saw_shim = p->session != NULL || p->inh.blocks != NULL;
    if (p->session_error &&
        asprintf(&r->not_recorded, "its session could not be mapped (%s%s)", strerror(p->session_error),
                 p->session_error == ENOMEM ? ": the address-space limit, ulimit -v" : "") < 0)
        r->not_recorded = NULL;
    if (p->session) {
        const struct ml_header *h = ml_session_header(p->session);
        r->lost_events = h->lost;
        r->stacks_full = h->stacks_full != 0;
    }
    struct ml_symbolizer *sym = snap->maps_text ? ml_symbolizer_new(snap->maps_text, p->pid) : NULL;
    struct ml_block *sorted = NULL;   /* the live blocks by address, for the heap analysis */
    size_t nsorted = 0;
    struct ml_leak_input in = {
        .snap = snap,
        .blocks = p->session ? ml_session_blocks(p->session) : p->inh.blocks ? p->inh.blocks : empty,
        .stacks = ml_proc_stacks(p),
        .sym = sym,
        .heuristics = run->opt->heuristics,
        .max_frames = (unsigned)run->opt->num_callers,
        .stack_style = (run->opt->show_below_main ? ML_STACK_BELOW_MAIN : 0u) |
                       (run->opt->demangle ? 0u : ML_STACK_MANGLED),
        .supp = suppressions,
        .mt = &p->mt,
        .alloc_tls = alloc_tls,
        .alloc_tls_size = alloc_tls_size,
        .sorted = &sorted,
        .nsorted = &nsorted,
        .unknown_is_root = run->attach,
        .seq_seconds = run->attach && p->session ? ml_attach_seq_seconds : NULL,
        .snapshot_seconds = ml_attach_snapshot_seconds(),
        .progress = ml_progress_now(),
    };
    in.stacks.into = r->stacks;
    if (p->freeres_error && p->freeres_error != -ESRCH)
        fprintf(stderr, "memlens: warning: pid %d: the freeres at exit %s; its buffers count as "
                "the program's\n", p->pid, p->freeres_error == -ETIMEDOUT ?
                "did not return (another thread holds a lock it needs)" : "failed");
    double t0 = ml_now();
    if (in.blocks && ml_leaks_build(&in, r) != 0)
        fprintf(stderr, "memlens: warning: leak analysis of pid %d incomplete: out of memory\n", p->pid);
    ml_phase_done(p->pid, "leaks", t0);
    if (r->stacks) ml_stat(p->pid, "report_stack_bytes", ml_stacktab_bytes(r->stacks));
    t0 = ml_now();
    struct ml_frag_input fi = {.snap = snap, .blocks = sorted, .nblocks = nsorted,
                               .stacks = in.stacks, .sym = sym, .max_frames = in.max_frames,
                               .stack_style = in.stack_style,
                               .progress = in.progress,
                               .real_malloc = real_malloc_of(p)};
    if (sorted && ml_frag_build(&fi, &r->heap) != 0)
        fprintf(stderr, "memlens: warning: heap analysis of pid %d incomplete: out of memory\n", p->pid);
    free(sorted);
    ml_phase_done(p->pid, "heap", t0);
    t0 = ml_now();
    if (p->session) ml_session_take_maps(p->session, &p->mt);
    struct ml_regions_input ri = {.snap = snap, .mt = &p->mt, .stacks = in.stacks, .sym = sym,
                                  .max_frames = in.max_frames, .stack_style = in.stack_style,
                                  .shm_exists = shm_exists, .syscalls_watched = !run->attach,
                                  .file_exists = file_exists};
    if (ml_regions_build(&ri, r) != 0)
        fprintf(stderr, "memlens: warning: memory map of pid %d incomplete: out of memory\n", p->pid);
    ml_phase_done(p->pid, "regions", t0);
    ml_progress_stop();                 /* before anything else is printed */
    /* valgrind's --child-silent-after-fork=yes: a forked child says nothing */
    if (run->opt->track_fds != ML_TRACK_FDS_NO && !run->attach &&
        !(p->forked && run->opt->child_silent_after_fork)) {
        int own[ML_OWN_FDS_MAX];
        size_t nown = snap->scanned ? ml_fds_own(snap, sym, own) : 0;
        struct ml_fds_input fdi = {.seen = p->fds_seen, .nseen = p->nfds_seen, .own = own, .nown = nown,
                                   .table = p->session ? ml_session_fds(p->session) : NULL,
                                   .forked_from = &p->inh.fds,
                                   .stacks = in.stacks, .sym = sym, .max_frames = in.max_frames,
                                   .list_std = run->opt->track_fds == ML_TRACK_FDS_ALL,
                                   .stack_style = in.stack_style};
        if (ml_fds_build(&fdi, r) != 0)
            fprintf(stderr, "memlens: warning: descriptors of pid %d incomplete: out of memory\n", p->pid);
    }
    if (run->growth && p->pid == run->opt->pid &&
        ml_growth_report(run->growth, in.stacks, sym, in.max_frames, in.stack_style, r) != 0)
        fprintf(stderr, "memlens: warning: interval growth of pid %d incomplete: out of memory\n", p->pid);
    r->duration = ml_now() - p->started;
    if (run->attach && !p->reaped) r->exit_how = ML_EXIT_DETACHED;
    if (sym) ml_symbolizer_free(sym);
    p->report = r;
out:
    ml_blocks_free(empty);
    ml_session_close(p->session);
    p->session = NULL;
    ml_memtrace_free(&p->mt);
    ml_inherit_free(&p->inh);
    ml_fdscan_free(p->fds_seen, p->nfds_seen);
    p->fds_seen = NULL;
    p->nfds_seen = 0;
    ml_snapshot_free(snap);
    free(snap);
}

static int publish(const struct ml_options *o);
static int run_status(const struct ml_options *o, int program_status);
static int root_status(int pid);

/* What a process's image means under memlens, said when it starts. */
static void on_note(struct ml_proc *p, int what, void *ctx)
{
    const char *name = p->exe ? p->exe : "?";
    char why[128];
    (void)ctx;
    static int said_ptrace;
    if (what == ML_NOTE_PTRACE) {
        if (said_ptrace++) return;
        fprintf(stderr, "memlens: note: pid %d (%s) tries to trace a process with ptrace, which fails: "
                "a process has one tracer, and memlens traces every process it runs; run the "
                "debugger outside memlens\n", p->pid, name);
    } else if (p->exe && ml_image_is_32bit(p->exe)) {
        fprintf(stderr, "memlens: warning: pid %d runs %s: 32-bit programs are not supported; "
                "it is not reported\n", p->pid, name);
        p->report_it = 0;
    } else if (p->exe && ml_image_setid(p->exe, why, sizeof why) && geteuid() != 0) {
        fprintf(stderr, "memlens: note: pid %d runs %s, which is %s: under ptrace (memlens, as "
                "any debugger) the kernel runs it with your privileges, not those\n", p->pid, name, why);
    } else if (p->exe && ml_image_setid(p->exe, why, sizeof why)) {
        fprintf(stderr, "memlens: note: pid %d runs %s, which is %s: it keeps those privileges "
                "(memlens runs as root), so the loader ignores LD_PRELOAD and memlens cannot see "
                "its allocations\n", p->pid, name, why);
    }
}

static struct ml_render_opts render_opts(const struct ml_options *o)
{
    return (struct ml_render_opts){.show_kinds = o->show_kinds, .leak_check = o->leak_check,
                                   .gen_suppressions = o->gen_suppressions,
                                   .tool_version = PACKAGE_VERSION, .quiet = o->quiet,
                                   .alloc_fns = o->alloc_fns, .nalloc_fns = o->nalloc_fns,
                                   .error_kinds = o->error_kinds, .tool_argv = tool_argv,
                                   .parent_pid_line = o->log_file != NULL,
                                   .show_error_list = o->show_error_list,
                                   .verbose = o->verbosity > 1, .suppression_files = supp_files,
                                   .nsuppression_files = nsupp_files};
}

/* Where pid's text goes; stderr when its file cannot even be named. */
static FILE *text_stream(int pid)
{
    FILE *f = ml_textlog_stream(pid);
    if (!f) fprintf(stderr, "memlens: error: %s\n", ml_last_error());
    return f ? f : stderr;
}

/* valgrind's --child-silent-after-fork=yes: a forked child says nothing
 * until it executes a program; with --xml=yes, as valgrind, the report is
 * the XML and no process writes text. */
static int silent(const struct ml_options *o, const struct ml_proc *p)
{
    return o->xml || (p->forked && o->child_silent_after_fork);
}

/* A traced process starts: valgrind's preamble, in its own file when it has
 * one (a forked child writing to its parent's stream starts silently). */
static void on_process_start(struct ml_proc *p, int forked, void *ctx)
{
    const struct run *run = ctx;
    if (silent(run->opt, p) || (forked && !ml_textlog_per_process())) return;
    struct ml_render_opts ro = render_opts(run->opt);
    ml_render_text_banner(text_stream(p->pid), p->pid, p->ppid, p->argv, &ro);
}

/* The text p ends with, once (in attach mode, with the preamble: what the
 * process runs is known once attached). */
static void write_text_end(const struct ml_options *o, struct ml_proc *p)
{
    if (!p->report || p->text_done) return;
    p->text_done = 1;
    if (silent(o, p)) return;
    struct ml_render_opts ro = render_opts(o);
    double t0 = ml_now();
    if (o->pid)
        ml_render_text_banner(text_stream(p->pid), p->pid, p->ppid, p->report->argv, &ro);
    ml_render_text_end(text_stream(p->pid), NULL, p->report, &ro);
    ml_phase_done(p->pid, "render", t0);
    ml_textlog_done(p->pid);
}

static void on_reaped(struct ml_proc *p, void *ctx)
{
    const struct run *run = ctx;
    if (p->report && WIFSIGNALED(p->wait_status)) {
        p->report->exit_how = ML_EXIT_SIGNAL;
        p->report->exit_value = WTERMSIG(p->wait_status);
    } else if (p->report && WIFEXITED(p->wait_status)) {
        p->report->exit_how = ML_EXIT_CODE;
        p->report->exit_value = WEXITSTATUS(p->wait_status);
    }
    write_text_end(run->opt, p);
    if (run->attach) return;
    /* The program has ended but processes it left (daemons) live on: the
     * caller gets the reports so far and the status now, and the rest of
     * the reports follow as those processes end. */
    if (p->pid == run->root_pid && ml_proc_count_live() > 0 && !ml_front_released()) {
        publish(run->opt);
        ml_front_release(run_status(run->opt, root_status(run->root_pid)));
    } else if (ml_front_released() && p->report) {
        publish(run->opt);
    }
}

/* -p --interval: the sites whose unfreed bytes grew. */
static void on_interval(struct ml_proc *p, double seconds, void *ctx)
{
    struct run *run = ctx;
    struct ml_blocks *now = p->session ? ml_session_clone_blocks(p->session) : NULL;
    if (now && run->growth)
        ml_growth_sample(run->growth, now, seconds, p->pid, ml_proc_stacks(p),
                         text_stream(p->pid), 5);
    ml_blocks_free(now);
}

static char **strv_of(const char **v, int n)
{
    char **out = n > 0 ? calloc((size_t)n + 1, sizeof *out) : NULL;
    for (int i = 0; out && i < n; i++) out[i] = strdup(v[i]);
    return out;
}

/* The options that shape a report, as its JSON saves them.  With --load the
 * report options of this command line replace the saved ones, and so do its
 * --suppressions when there are any; what shaped the analysis (stacks,
 * heuristics) stays as saved. */
static void record_options(const struct ml_options *o, struct ml_report_options *ro, int loaded)
{
    ro->leak_check = o->leak_check;
    ro->show_kinds = o->show_kinds;
    ro->error_kinds = o->error_kinds;
    ro->error_exitcode = o->error_exitcode;
    ro->default_suppressions = o->default_suppressions;
    if (!loaded || o->nsuppressions) {
        char **keep = ro->alloc_fns;
        ro->alloc_fns = NULL;
        ml_report_options_free(ro);                /* the saved suppressions */
        ro->suppressions = strv_of(supp_files, nsupp_files);   /* the default ones first */
        ro->alloc_fns = loaded ? keep : strv_of(o->alloc_fns, o->nalloc_fns);
    }
    if (loaded) return;
    ro->heuristics = o->heuristics;
    ro->num_callers = o->num_callers;
    ro->show_below_main = o->show_below_main;
    ro->demangle = o->demangle;
    ro->trace_children = o->trace_children;
}

/* Collect the processes' reports, in the order they started. */
static struct ml_report collect(const struct ml_options *o)
{
    struct ml_report rep = {.mode = o->pid ? "attach" : "run", .command = o->command};
    size_t n = 0;
    for (struct ml_proc *p = ml_proc_first(); p; p = p->next) n += p->report != NULL;
    if (o->pid && ml_proc_first() && ml_proc_first()->report)   /* the command it runs */
        rep.command = ml_proc_first()->report->argv;
    rep.procs = calloc(n ? n : 1, sizeof *rep.procs);
    for (struct ml_proc *p = ml_proc_first(); rep.procs && p; p = p->next)
        if (p->report) rep.procs[rep.nprocs++] = *p->report;
    return rep;
}

/* As memcheck's ERROR SUMMARY counts them: only a full leak check finds errors. */
static int leaks_are_errors(const struct ml_options *o, const struct ml_report *rep)
{
    for (size_t i = 0; i < rep->nprocs; i++)
        if (ml_error_counts(&rep->procs[i], o->leak_check == ML_LEAK_CHECK_FULL,
                            o->error_kinds).errors > 0)
            return 1;
    return 0;
}

/* Returns 0, or ML_EXIT_FAILURE when a report other tools read was not written. */
/* Close output i, saying so if its report could not be written. */
static void close_output(int i)
{
    if (ml_reportfile_close(out.f[i], out.path[i]) != 0) {
        fail(ML_EXIT_FAILURE, "%s", ml_last_error());
        out.failed = 1;
    }
    out.f[i] = NULL;
}

/* Output i ready for another whole report: a regular file is written over;
 * a pipe or device got its one report already. */
static FILE *reopen_output(int i)
{
    struct stat st;
    if (!out.f[i] && out.path[i] && stat(out.path[i], &st) == 0 && S_ISREG(st.st_mode))
        out.f[i] = ml_reportfile_open(out.path[i]);
    return out.f[i];
}

/* The whole text of a saved report (--load), process by process. */
static void write_saved_text(const struct ml_options *o, const struct ml_report *rep)
{
    struct ml_render_opts ro = render_opts(o);
    for (size_t i = 0; !o->xml && i < rep->nprocs; i++) {
        const struct ml_proc_report *p = &rep->procs[i];
        FILE *f = text_stream(p->pid);
        ml_render_text_banner(f, p->pid, p->ppid, p->argv && p->argv[0] ? p->argv : rep->command, &ro);
        ml_render_text_end(f, rep, p, &ro);
        ml_textlog_done(p->pid);
    }
}

/* The whole JSON, HTML and other formats of rep. Returns 0, or -1 when a
 * report could not be written (said). */
static int write_outputs(const struct ml_options *o, const struct ml_report *rep)
{
    struct ml_render_opts ro = render_opts(o);
    if (reopen_output(OUT_JSON)) ml_render_json(out.f[OUT_JSON], rep, &ro);
    if (reopen_output(OUT_HTML)) ml_render_html(out.f[OUT_HTML], rep, &ro);
    close_output(OUT_JSON);                     /* a failed write shows when it is closed */
    close_output(OUT_HTML);
    if (ml_formats_write(o, rep, &ro) != 0) {
        fail(ML_EXIT_FAILURE, "%s", ml_last_error());
        out.failed = 1;
    }
    return out.failed ? -1 : 0;
}

/* Write the reports of the processes that have ended since the last call:
 * their text, then the whole JSON, HTML and other formats of every process
 * so far. Returns 0, or -1 when a report could not be written (said). */
static int publish(const struct ml_options *o)
{
    struct ml_report rep = collect(o);
    record_options(o, &rep.options, 0);
    for (struct ml_proc *p = ml_proc_first(); p; p = p->next)
        if (p->report && !p->written) {
            write_text_end(o, p);             /* those not reaped: attach mode */
            p->written = 1;
        }
    int rc = write_outputs(o, &rep);
    free(rep.procs);
    ml_report_options_free(&rep.options);
    return rc;
}

/* The exit status of memlens for the root process's wait status. */
static int root_status(int pid)
{
    for (struct ml_proc *p = ml_proc_first(); p; p = p->next)
        if (p->pid == pid) {
            if (WIFSIGNALED(p->wait_status)) return 128 + WTERMSIG(p->wait_status);
            return WEXITSTATUS(p->wait_status);
        }
    return ML_EXIT_FAILURE;
}

/* memlens's exit status once the reports so far are out: 125 when one
 * could not be written, --error-exitcode for leaks of the error kinds, else
 * the program's own status. */
static int run_status(const struct ml_options *o, int program_status)
{
    if (out.failed) return ML_EXIT_FAILURE;
    struct ml_report rep = collect(o);
    int leaks = o->error_exitcode && leaks_are_errors(o, &rep);
    free(rep.procs);
    return leaks ? o->error_exitcode : program_status;
}

static int run_program(const struct ml_options *o)
{
    char *path = ml_find_program(o->command[0]);
    if (!path)
        return errno == ENOENT ? fail(ML_EXIT_NOT_FOUND, "%s: program not found", o->command[0])
                               : fail(ML_EXIT_CANNOT_EXEC, "%s: cannot execute: permission denied", o->command[0]);
    if (ml_image_is_32bit(path)) {
        free(path);
        return fail(ML_EXIT_FAILURE, "%s: 32-bit programs are not supported", o->command[0]);
    }
    char *shim = ml_find_shim();
    if (!shim) return fail(ML_EXIT_FAILURE, "libmemlens.so not found (set MEMLENS_SHIM or reinstall)");
    struct ml_spawn_config sc = {.path = path, .argv = o->command, .shim = shim,
                                 .num_callers = o->num_callers,
                                 .track_fds = o->track_fds != ML_TRACK_FDS_NO};
    if (ml_front_split() != 0) return fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    if (ml_drainer_start() != 0) return fail(ML_EXIT_FAILURE, "cannot start the event drainer");
    int errfd = -1, pid = ml_spawn(&sc, &errfd);
    if (pid < 0) return fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    ml_procs_set_default_report(1, pid);      /* children follow their parent (loop.c) */
    ml_loop_forward_signals();
    struct run run = {.opt = o, .root_pid = pid};
    struct ml_children children = {.trace = o->trace_children, .skip = o->trace_children_skip,
                                   .skip_by_arg = o->trace_children_skip_by_arg};
    char *session_env = ml_session_env(&sc);
    struct ml_envfix fix = {.shim = shim, .session = session_env};
    struct ml_loop_config lc = {.root_pid = pid, .on_process_end = on_process_end,
                                .on_reaped = on_reaped, .on_note = on_note,
                                .on_process_start = on_process_start,
                                .ctx = &run, .children = &children,
                                .envfix = session_env ? &fix : NULL,
                                .freeres = (o->run_cxx_freeres ? ML_FREERES_CXX : 0u) |
                                           (o->run_libc_freeres ? ML_FREERES_LIBC : 0u),
                                .track_fds = o->track_fds != ML_TRACK_FDS_NO, .quiet = o->quiet};
    int rc = ml_loop_run(&lc);
    ml_drainer_stop();
    free(session_env);
    int exec_err = 0;
    if (read(errfd, &exec_err, sizeof exec_err) == (ssize_t)sizeof exec_err)
        return fail(exec_err == ENOENT ? ML_EXIT_NOT_FOUND : ML_EXIT_CANNOT_EXEC,
                    "%s: cannot execute: %s", path, strerror(exec_err));
    if (rc < 0) fprintf(stderr, "memlens: error: tracing stopped early: %s\n", strerror(-rc));
    publish(o);
    int status = run_status(o, root_status(pid));
    free(path);
    free(shim);
    return status;
}

static int attach_process(const struct ml_options *o)
{
    char *shim = ml_find_shim();
    if (!shim) return fail(ML_EXIT_FAILURE, "libmemlens.so not found (set MEMLENS_SHIM or reinstall)");
    if (ml_drainer_start() != 0) {
        free(shim);
        return fail(ML_EXIT_FAILURE, "cannot start the event drainer");
    }
    ml_attach_catch_signals();
    struct run run = {.opt = o, .attach = 1,
                      .growth = o->interval > 0 ? ml_growth_new() : NULL};
    struct ml_attach_config ac = {.pid = o->pid, .shim = shim, .num_callers = o->num_callers,
                                  .duration = o->duration, .interval = o->interval,
                                  .on_process_end = on_process_end, .on_reaped = on_reaped,
                                  .on_interval = on_interval, .ctx = &run, .quiet = o->quiet};
    if (!o->quiet)
        fprintf(text_stream(o->pid), "==%d== memlens: attaching to pid %d; recording until it exits, %s\n",
                o->pid, o->pid, o->duration > 0 ? "the duration ends or Ctrl-C" : "or Ctrl-C");
    int rc = ml_attach_run(&ac);
    ml_drainer_stop();
    ml_growth_free(run.growth);
    free(shim);
    if (rc < 0) return fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    struct ml_proc *p = ml_proc_find(o->pid);
    int ended = p && p->reaped;                  /* it ended while recorded */
    publish(o);
    return run_status(o, ended ? root_status(o->pid) : 0);
}

/* One line for each valgrind option given that memlens accepts without effect. */
static void warn_ignored(const struct ml_options *o)
{
    for (int i = 0; i < o->nignored; i++)
        fprintf(stderr, "memlens: warning: %s is not supported; ignored\n", o->ignored[i]);
    if (o->pid && o->track_fds != ML_TRACK_FDS_NO)
        fprintf(stderr, "memlens: warning: --track-fds is not supported with -p; ignored\n");
}

static int run_main(const struct ml_options *o);

/* memlens's own words on its command line, up to the program (XML <vargv>);
 * the strings are argv's. */
static char **tool_args(char **argv, char **command)
{
    size_t n = 0;
    while (argv[n] && argv + n != command) n++;
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) v[i] = argv[i];
    return v;
}

int main(int argc, char **argv)
{
    struct ml_options o;
    enum ml_parse_result pr = ml_options_parse(&o, argc, argv);
    int status = pr == ML_PARSE_EXIT_OK ? 0 : ML_EXIT_FAILURE;
    if (pr == ML_PARSE_ERROR) fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    if (pr == ML_PARSE_OK) {
        tool_argv = tool_args(argv, o.command);
        warn_ignored(&o);
        status = run_main(&o);
    }
    ml_options_free(&o);
    free(tool_argv);
    return status;
}

/* --load[=NEW] [--diff=OLD]: render a saved report again with this command
 * line's report options and suppressions; nothing runs.  The exit status is
 * 0, or --error-exitcode when leaks of the error kinds remain. */
static int load_saved(const struct ml_options *o)
{
    char why[768];
    struct ml_report *rep = NULL, *old = NULL;
    int status = 0;
    if (ml_report_load(o->load_file, &rep, why, sizeof why) != 0 ||
        (o->diff_file && ml_report_load(o->diff_file, &old, why, sizeof why) != 0)) {
        ml_report_free(rep);
        return fail(ML_EXIT_FAILURE, "cannot load %s", why);
    }
    record_options(o, &rep->options, 1);
    for (size_t i = 0; o->nsuppressions && i < rep->nprocs; i++)
        if (ml_leaks_suppress(suppressions, &rep->procs[i]) != 0) status = ML_EXIT_FAILURE;
    for (size_t i = 0; old && o->nsuppressions && i < old->nprocs; i++)
        if (ml_leaks_suppress(suppressions, &old->procs[i]) != 0) status = ML_EXIT_FAILURE;
    if (old && (ml_report_diff(rep, old) != 0 || !(rep->diff_against = strdup(o->diff_file))))
        status = ML_EXIT_FAILURE;
    if (status) {
        fail(status, "out of memory");
    } else {
        write_saved_text(o, rep);
        if (write_outputs(o, rep) != 0) status = ML_EXIT_FAILURE;
        else if (o->error_exitcode && leaks_are_errors(o, rep)) status = o->error_exitcode;
    }
    ml_report_free(rep);
    ml_report_free(old);
    return status;
}

/* The default suppressions first (unless --default-suppressions=no), then
 * each --suppressions file, as valgrind reads them.  Returns 0 or -1 (printed). */
static int load_suppressions(const struct ml_options *o)
{
    default_supp = o->default_suppressions ? ml_find_default_suppressions() : NULL;
    if (o->default_suppressions && !default_supp)
        fprintf(stderr, "memlens: warning: the default suppressions file is not installed\n");
    if (!(supp_files = calloc((size_t)o->nsuppressions + 1, sizeof *supp_files))) {
        fail(ML_EXIT_FAILURE, "out of memory");
        return -1;
    }
    if (default_supp) supp_files[nsupp_files++] = default_supp;
    for (int i = 0; i < o->nsuppressions; i++)
        supp_files[nsupp_files++] = o->suppressions[i];
    if (nsupp_files && !(suppressions = ml_suppressions_new())) {
        fail(ML_EXIT_FAILURE, "out of memory");
        return -1;
    }
    for (int i = 0; i < nsupp_files; i++) {
        char why[512];
        if (ml_suppressions_load(suppressions, supp_files[i], why, sizeof why) != 0) {
            fail(ML_EXIT_FAILURE, "cannot use suppressions file %s", why);
            return -1;
        }
    }
    return 0;
}

static int run_main(const struct ml_options *o)
{
    if (o->pid && kill(o->pid, 0) != 0 && errno == ESRCH)
        return fail(ML_EXIT_FAILURE, "-p %d: no such process", o->pid);
    if (load_suppressions(o) != 0) return ML_EXIT_FAILURE;
    if (ml_textlog_init(o->log_file, o->log_fd) != 0) return fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    out.path[OUT_JSON] = o->json_file;
    out.path[OUT_HTML] = o->html_file;
    for (int i = 0; i < OUT_COUNT; i++)
        if (out.path[i] && (ml_reportfile_check(out.path[i]) != 0 || !(out.f[i] = ml_reportfile_open(out.path[i]))))
            return fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    if (ml_formats_check(o) != 0) return fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    int status = o->load_file ? load_saved(o) : o->pid ? attach_process(o) : run_program(o);
    for (int i = 0; i < OUT_COUNT; i++) close_output(i);
    if (ml_textlog_close() != 0) out.failed = fail(ML_EXIT_FAILURE, "%s", ml_last_error());
    if (out.failed) status = ML_EXIT_FAILURE;
    ml_suppressions_free(suppressions);
    free(supp_files);
    free(default_supp);
    return status;
}
