/* options.c - parsing memlens's command line into struct ml_options. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "errors.h"
#include "filepattern.h"
#include "reach.h"

#define KIND_BIT(k) (1u << (k))
#define ALL_KINDS (KIND_BIT(ML_LK_REACHABLE) | KIND_BIT(ML_LK_POSSIBLE) | \
                   KIND_BIT(ML_LK_INDIRECT) | KIND_BIT(ML_LK_DEFINITE))

void ml_usage(void)
{
    fputs(
"usage: memlens [options] [--] program [args...]\n"
"       memlens [options] -p PID\n"
"       memlens [options] --load=REPORT.json [--diff=OLD.json]\n"
"\n"
"Finds memory leaks, heap fragmentation and wasted resident pages in an\n"
"unmodified program, with memcheck's leak kinds and memcheck's options.\n"
"\n"
"leak checking:\n"
"  --leak-check=no|summary|yes|full what to report at exit (yes = full) [full]\n"
"  --show-leak-kinds=KINDS          kinds listed in full [definite,possible]\n"
"  --errors-for-leak-kinds=KINDS    kinds that count as errors [definite,possible]\n"
"        KINDS: comma list of definite,indirect,possible,reachable, or all, none\n"
"  --show-reachable=no|yes          yes: --show-leak-kinds=all\n"
"  --show-possibly-lost=no|yes      no: leave possible out of --show-leak-kinds\n"
"  --leak-check-heuristics=LIST     stdstring,length64,newarray,\n"
"                                   multipleinheritance, all or none [all]\n"
"  --error-exitcode=N               exit with N when errors were found [0=off]\n"
"  --suppressions=FILE              valgrind-format suppressions (repeatable)\n"
"  --default-suppressions=no|yes    apply the suppressions memlens installs [yes]\n"
"  --gen-suppressions=no|yes|all    print a suppression after each record [no]\n"
"  -s, --show-error-list=no|yes     list the errors and suppressions used [no]\n"
"  --run-libc-freeres=no|yes        run glibc's freeres at exit, as valgrind [yes]\n"
"  --run-cxx-freeres=no|yes         free libstdc++'s pool at exit, as valgrind [yes]\n"
"stacks:\n"
"  --num-callers=N                  stack frames recorded per allocation [12]\n"
"  --show-below-main=no|yes         frames below main, not one (below main) [no]\n"
"  --demangle=no|yes                demangle C++ names [yes]\n"
"  --alloc-fn=NAME                  an allocation wrapper: name its caller as the\n"
"                                   allocation site (repeatable)\n"
"processes:\n"
"  --trace-children=no|yes          trace exec'ed images too (forked children\n"
"                                   are always checked) [no]\n"
"  --trace-children-skip=PATTERNS   comma list of programs not to trace (* and ?)\n"
"  --trace-children-skip-by-arg=PATTERNS  same, matched against any argument\n"
"  --child-silent-after-fork=no|yes no output from forked children [no]\n"
"  --track-fds=no|yes|all           report file descriptors open at exit [no]\n"
"  -p, --pid=PID                    attach to a running process\n"
"  --duration=SECONDS               with -p: detach after this long\n"
"  --interval=SECONDS               with -p: every SECONDS, print the sites whose\n"
"                                   unfreed bytes grew\n"
"output:\n"
"  -o, --log-file=FILE              text report to FILE instead of stderr;\n"
"                                   %p pid, %n sequence, %q{VAR} environment, %%\n"
"  --log-fd=N                       text report to file descriptor N [2]\n"
"  --xml=no|yes                     valgrind's XML (protocol 4) as well [no]\n"
"  --xml-file=FILE, --xml-fd=N      where the XML goes (FILE as --log-file)\n"
"  --json=FILE                      JSON report (schema 1)\n"
"  --html=FILE                      self-contained HTML report\n"
"  --sarif=FILE                     SARIF 2.1.0 report\n"
"  --pprof=FILE                     gzipped pprof profile\n"
"  --load=REPORT.json               render a saved JSON report again\n"
"  --diff=OLD.json                  with --load: what grew since OLD\n"
"  -q, --quiet                      print only errors\n"
"  -v, --verbose                    more messages (repeatable)\n"
"  --tool=memcheck                  accepted for valgrind's command lines\n"
"  -h, --help, --help-debug, --help-dyn-options  this help\n"
"  --version                        print the version\n"
"\n"
"Every other valgrind or memcheck option (--track-origins, --malloc-fill, ...)\n"
"is accepted with one warning and ignored.\n"
"\n"
"Exit status: the program's own (128+N when it died of signal N), or\n"
"--error-exitcode when leaks of the error kinds were found; 125 when memlens\n"
"itself fails, 126 when the program cannot be executed, 127 when it is not found.\n",
        stdout);
}

struct name_bits { const char *name; unsigned bits; };

/* A comma list of names from table, or-ed together; -1 on an unknown name. */
static int parse_names(const char *s, const struct name_bits *table, size_t n, unsigned *out)
{
    unsigned bits = 0;
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ","), i;
        for (i = 0; i < n; i++)
            if (strlen(table[i].name) == len && strncmp(p, table[i].name, len) == 0) break;
        if (i == n) return -1;
        bits |= table[i].bits;
        p += len + (p[len] == ',');
    }
    *out = bits;
    return 0;
}

static int parse_kinds(const char *s, unsigned *out)
{
    static const struct name_bits names[] = {
        {"definite", KIND_BIT(ML_LK_DEFINITE)}, {"indirect", KIND_BIT(ML_LK_INDIRECT)},
        {"possible", KIND_BIT(ML_LK_POSSIBLE)}, {"reachable", KIND_BIT(ML_LK_REACHABLE)},
        {"all", ALL_KINDS}, {"none", 0},
    };
    return parse_names(s, names, sizeof names / sizeof names[0], out);
}

static int parse_heuristics(const char *s, unsigned *out)
{
    static const struct name_bits names[] = {
        {"stdstring", ML_HEUR_STDSTRING}, {"length64", ML_HEUR_LENGTH64},
        {"newarray", ML_HEUR_NEWARRAY}, {"multipleinheritance", ML_HEUR_MULTIPLEINHERITANCE},
        {"all", ML_HEUR_ALL}, {"none", 0},
    };
    return parse_names(s, names, sizeof names / sizeof names[0], out);
}

static int parse_yesno(const char *s, int *out)
{
    if (strcmp(s, "yes") == 0) *out = 1;
    else if (strcmp(s, "no") == 0) *out = 0;
    else return -1;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

enum {
    OPT_LEAK_CHECK = 256, OPT_SHOW_KINDS, OPT_ERROR_KINDS, OPT_ERROR_EXITCODE,
    OPT_SUPPRESSIONS, OPT_GEN_SUPP, OPT_NUM_CALLERS, OPT_TRACE_CHILDREN, OPT_HTML,
    OPT_JSON, OPT_DURATION, OPT_INTERVAL, OPT_VERSION, OPT_CXX_FREERES, OPT_HEURISTICS,
    OPT_SHOW_REACHABLE, OPT_SHOW_POSSIBLY, OPT_DEFAULT_SUPP, OPT_ERROR_LIST, OPT_LIBC_FREERES,
    OPT_BELOW_MAIN, OPT_DEMANGLE, OPT_ALLOC_FN, OPT_CHILDREN_SKIP, OPT_CHILDREN_SKIP_ARG,
    OPT_SILENT_CHILD, OPT_TRACK_FDS, OPT_LOG_FD, OPT_XML, OPT_XML_FILE, OPT_XML_FD,
    OPT_SARIF, OPT_PPROF, OPT_LOAD, OPT_DIFF, OPT_TOOL, OPT_IGNORED,
};

static const struct option own_opts[] = {
    {"leak-check", required_argument, 0, OPT_LEAK_CHECK},
    {"show-leak-kinds", required_argument, 0, OPT_SHOW_KINDS},
    {"errors-for-leak-kinds", required_argument, 0, OPT_ERROR_KINDS},
    {"show-reachable", required_argument, 0, OPT_SHOW_REACHABLE},
    {"show-possibly-lost", required_argument, 0, OPT_SHOW_POSSIBLY},
    {"error-exitcode", required_argument, 0, OPT_ERROR_EXITCODE},
    {"suppressions", required_argument, 0, OPT_SUPPRESSIONS},
    {"default-suppressions", required_argument, 0, OPT_DEFAULT_SUPP},
    {"gen-suppressions", required_argument, 0, OPT_GEN_SUPP},
    {"show-error-list", required_argument, 0, OPT_ERROR_LIST},
    {"num-callers", required_argument, 0, OPT_NUM_CALLERS},
    {"trace-children", required_argument, 0, OPT_TRACE_CHILDREN},
    {"trace-children-skip", required_argument, 0, OPT_CHILDREN_SKIP},
    {"trace-children-skip-by-arg", required_argument, 0, OPT_CHILDREN_SKIP_ARG},
    {"child-silent-after-fork", required_argument, 0, OPT_SILENT_CHILD},
    {"run-libc-freeres", required_argument, 0, OPT_LIBC_FREERES},
    {"run-cxx-freeres", required_argument, 0, OPT_CXX_FREERES},
    {"show-below-main", required_argument, 0, OPT_BELOW_MAIN},
    {"demangle", required_argument, 0, OPT_DEMANGLE},
    {"alloc-fn", required_argument, 0, OPT_ALLOC_FN},
    {"track-fds", required_argument, 0, OPT_TRACK_FDS},
    {"leak-check-heuristics", required_argument, 0, OPT_HEURISTICS},
    {"log-file", required_argument, 0, 'o'},
    {"log-fd", required_argument, 0, OPT_LOG_FD},
    {"xml", required_argument, 0, OPT_XML},
    {"xml-file", required_argument, 0, OPT_XML_FILE},
    {"xml-fd", required_argument, 0, OPT_XML_FD},
    {"html", required_argument, 0, OPT_HTML},
    {"json", required_argument, 0, OPT_JSON},
    {"sarif", required_argument, 0, OPT_SARIF},
    {"pprof", required_argument, 0, OPT_PPROF},
    {"load", required_argument, 0, OPT_LOAD},
    {"diff", required_argument, 0, OPT_DIFF},
    {"pid", required_argument, 0, 'p'},
    {"duration", required_argument, 0, OPT_DURATION},
    {"interval", required_argument, 0, OPT_INTERVAL},
    {"tool", required_argument, 0, OPT_TOOL},
    {"quiet", no_argument, 0, 'q'},
    {"verbose", no_argument, 0, 'v'},
    {"help", no_argument, 0, 'h'},
    {"help-debug", no_argument, 0, 'h'},
    {"help-dyn-options", no_argument, 0, 'h'},
    {"version", no_argument, 0, OPT_VERSION},
};

/* valgrind's core and memcheck options (valgrind 3.19's --help and
 * --help-debug) that memlens accepts without effect: error detection,
 * the JIT, the debugger, valgrind's own tracing. */
static const char *const ignored_opts[] = {
    "alignment", "allow-mismatched-debuginfo", "aspace-minaddr", "avg-transtab-entry-size",
    "command-line-only", "core-redzone-size", "debug-dump", "debuginfo-server", "dsymutil",
    "dump-error", "error-limit", "error-markers", "exit-on-first-error",
    "expensive-definedness-checks", "extra-debuginfo-path", "fair-sched", "free-fill",
    "freelist-big-blocks", "freelist-vol", "fullpath-after", "ignore-range-below-sp",
    "ignore-ranges", "input-fd", "keep-debuginfo", "keep-stacktraces", "kernel-variant",
    "leak-resolution", "log-socket", "main-stacksize", "malloc-fill", "max-stackframe",
    "max-threads", "merge-recursive-frames", "num-transtab-sectors", "partial-loads-ok",
    "profile-flags", "profile-heap", "profile-interval", "progress-interval", "px-default",
    "px-file-backed", "read-inline-info", "read-var-info", "redzone-size",
    "require-text-symbol", "resync-filter", "sanity-level", "show-emwarns",
    "show-mismatched-frees", "sigill-diagnostics", "sim-hints", "smc-check",
    "soname-synonyms", "stats", "sym-offsets", "time-stamp", "trace-cfi", "trace-flags",
    "trace-malloc", "trace-notabove", "trace-notbelow", "trace-redir", "trace-sched",
    "trace-signals", "trace-symtab", "trace-symtab-patt", "trace-syscalls", "track-origins",
    "undef-value-errors", "unw-stack-scan-frames", "unw-stack-scan-thresh",
    "valgrind-stacksize", "vex-guest-chase", "vex-guest-chase-thresh", "vex-guest-max-insns",
    "vex-iropt-level", "vex-iropt-register-updates", "vex-iropt-unroll-thresh",
    "vex-iropt-verbosity", "vex-regalloc-version", "vgdb", "vgdb-error", "vgdb-poll",
    "vgdb-prefix", "vgdb-shadow-registers", "vgdb-stop-at", "wait-for-gdb",
    "workaround-gcc296-bugs", "xml-socket", "xml-user-comment", "xtree-compress-strings",
    "xtree-leak", "xtree-leak-file", "xtree-memory", "xtree-memory-file",
};

#define N_OWN (sizeof own_opts / sizeof own_opts[0])
#define N_IGNORED (sizeof ignored_opts / sizeof ignored_opts[0])

/* getopt's table: memlens's options, then the ignored ones (any value or none). */
static const struct option *long_opts(void)
{
    static struct option all[N_OWN + N_IGNORED + 1];
    if (all[0].name) return all;
    memcpy(all, own_opts, sizeof own_opts);
    for (size_t i = 0; i < N_IGNORED; i++)
        all[N_OWN + i] = (struct option){ignored_opts[i], optional_argument, 0, OPT_IGNORED};
    return all;
}

/* A positive number of seconds, at most a year. */
static int parse_seconds(const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (!*arg || *end != '\0' || !(v > 0) || v > 366.0 * 86400) return -1;
    *out = v;
    return 0;
}

/* Append s to a growing array of strings; -1 when out of memory. */
static int push(const char ***v, int *n, const char *s)
{
    const char **grown = realloc(*v, (size_t)(*n + 1) * sizeof **v);
    if (!grown) return -1;
    grown[(*n)++] = s;
    *v = grown;
    return 0;
}

/* Record an ignored option once, as the user spelt its name ("--track-origins", "-d"). */
static int note_ignored(struct ml_options *o, const char *dashes, const char *name)
{
    size_t nd = strlen(dashes);
    for (int i = 0; i < o->nignored; i++)
        if (strcmp(o->ignored[i] + nd, name) == 0 && strncmp(o->ignored[i], dashes, nd) == 0)
            return 0;
    char *spelt = malloc(nd + strlen(name) + 1);
    if (!spelt) return -1;
    strcpy(spelt, dashes);
    strcat(spelt, name);
    if (push(&o->ignored, &o->nignored, spelt) == 0) return 0;
    free(spelt);
    return -1;
}

static int parse_leak_check(const char *arg, enum ml_leak_check *out)
{
    if (strcmp(arg, "no") == 0) *out = ML_LEAK_CHECK_NO;
    else if (strcmp(arg, "summary") == 0) *out = ML_LEAK_CHECK_SUMMARY;
    else if (strcmp(arg, "full") == 0 || strcmp(arg, "yes") == 0) *out = ML_LEAK_CHECK_FULL;
    else return -1;
    return 0;
}

/* no|yes|all into 0|1|2. */
static int parse_no_yes_all(const char *arg, int *out)
{
    if (strcmp(arg, "all") == 0) { *out = 2; return 0; }
    return parse_yesno(arg, out);
}

/* --show-reachable and --show-possibly-lost, memcheck's older spelling of the kinds. */
static int parse_show_flag(struct ml_options *o, int c, const char *arg)
{
    int yes;
    if (parse_yesno(arg, &yes) != 0) return -1;
    if (c == OPT_SHOW_REACHABLE)
        o->show_kinds = yes ? ALL_KINDS : KIND_BIT(ML_LK_DEFINITE) | KIND_BIT(ML_LK_POSSIBLE);
    else if (yes) o->show_kinds |= KIND_BIT(ML_LK_POSSIBLE);
    else o->show_kinds &= ~KIND_BIT(ML_LK_POSSIBLE);
    return 0;
}

/* The options of leak checking and suppressions; 1 when c is none of them. */
static int apply_leak(struct ml_options *o, int c, const char *arg)
{
    int v;
    switch (c) {
    case OPT_LEAK_CHECK: return parse_leak_check(arg, &o->leak_check);
    case OPT_SHOW_KINDS: return parse_kinds(arg, &o->show_kinds);
    case OPT_ERROR_KINDS: return parse_kinds(arg, &o->error_kinds);
    case OPT_SHOW_REACHABLE: case OPT_SHOW_POSSIBLY: return parse_show_flag(o, c, arg);
    case OPT_HEURISTICS: return parse_heuristics(arg, &o->heuristics);
    case OPT_ERROR_EXITCODE: return parse_int(arg, 0, 255, &o->error_exitcode);
    case OPT_SUPPRESSIONS: return push(&o->suppressions, &o->nsuppressions, arg);
    case OPT_DEFAULT_SUPP: return parse_yesno(arg, &o->default_suppressions);
    case OPT_GEN_SUPP:
        if (parse_no_yes_all(arg, &v) != 0) return -1;
        o->gen_suppressions = (enum ml_gen_supp)v;
        return 0;
    case OPT_ERROR_LIST: return parse_yesno(arg, &o->show_error_list);
    case OPT_LIBC_FREERES: return parse_yesno(arg, &o->run_libc_freeres);
    case OPT_CXX_FREERES: return parse_yesno(arg, &o->run_cxx_freeres);
    }
    return 1;
}

/* Stacks, processes and modes; 1 when c is none of them. */
static int apply_run(struct ml_options *o, int c, const char *arg)
{
    int v;
    switch (c) {
    case OPT_NUM_CALLERS: return parse_int(arg, 1, 500, &o->num_callers);
    case OPT_BELOW_MAIN: return parse_yesno(arg, &o->show_below_main);
    case OPT_DEMANGLE: return parse_yesno(arg, &o->demangle);
    case OPT_ALLOC_FN: return *arg ? push(&o->alloc_fns, &o->nalloc_fns, arg) : -1;
    case OPT_TRACE_CHILDREN: return parse_yesno(arg, &o->trace_children);
    case OPT_CHILDREN_SKIP: o->trace_children_skip = arg; return 0;
    case OPT_CHILDREN_SKIP_ARG: o->trace_children_skip_by_arg = arg; return 0;
    case OPT_SILENT_CHILD: return parse_yesno(arg, &o->child_silent_after_fork);
    case OPT_TRACK_FDS:
        if (parse_no_yes_all(arg, &v) != 0) return -1;
        o->track_fds = (enum ml_track_fds)v;
        return 0;
    case 'p': return parse_int(arg, 1, 0x7fffffff, &o->pid);
    case OPT_DURATION: return parse_seconds(arg, &o->duration);
    case OPT_INTERVAL: return parse_seconds(arg, &o->interval);
    case OPT_TOOL: return strcmp(arg, "memcheck") == 0 ? 0 : -1;
    }
    return 1;
}

/* The outputs; 1 when c is none of them. */
static int apply_output(struct ml_options *o, int c, const char *arg)
{
    switch (c) {
    case 'o': o->log_file = arg; return ml_file_pattern_check(arg);
    case OPT_LOG_FD: return parse_int(arg, 0, 0x7fffffff, &o->log_fd);
    case OPT_XML: return parse_yesno(arg, &o->xml);
    case OPT_XML_FILE: o->xml_file = arg; return ml_file_pattern_check(arg);
    case OPT_XML_FD: return parse_int(arg, 0, 0x7fffffff, &o->xml_fd);
    case OPT_HTML: o->html_file = arg; return 0;
    case OPT_JSON: o->json_file = arg; return 0;
    case OPT_SARIF: o->sarif_file = arg; return 0;
    case OPT_PPROF: o->pprof_file = arg; return 0;
    case OPT_LOAD: o->load_file = arg; return 0;
    case OPT_DIFF: o->diff_file = arg; return 0;
    case 'q': o->verbosity = o->verbosity > 0 ? o->verbosity - 1 : 0; return 0;
    case 'v': o->verbosity++; return 0;
    case 's': o->show_error_list = 1; return 0;
    }
    return 1;
}

static int apply(struct ml_options *o, int c, const char *arg)
{
    int rc = apply_leak(o, c, arg);
    if (rc == 1) rc = apply_run(o, c, arg);
    if (rc == 1) rc = apply_output(o, c, arg);
    return rc == 1 ? -1 : rc;
}

static void set_defaults(struct ml_options *o)
{
    memset(o, 0, sizeof *o);
    o->leak_check = ML_LEAK_CHECK_FULL;
    o->show_kinds = KIND_BIT(ML_LK_DEFINITE) | KIND_BIT(ML_LK_POSSIBLE);
    o->error_kinds = KIND_BIT(ML_LK_DEFINITE) | KIND_BIT(ML_LK_POSSIBLE);
    o->heuristics = ML_HEUR_ALL;
    o->default_suppressions = 1;
    o->num_callers = 12;
    o->demangle = 1;
    o->run_libc_freeres = 1;
    o->run_cxx_freeres = 1;
    o->log_fd = 2;
    o->xml_fd = -1;
    o->verbosity = 1;
}

/* The combinations that cannot run; 0 when o is consistent. */
static int check_modes(const struct ml_options *o)
{
    if (o->diff_file && !o->load_file) return ml_error("--diff needs --load=REPORT.json"), -1;
    if (o->load_file && (o->pid || *o->command))
        return ml_error("--load renders a saved report: give no program and no -p"), -1;
    if (o->pid && *o->command) return ml_error("give either -p PID or a program to run, not both"), -1;
    if (!o->pid && !o->load_file && !*o->command)
        return ml_error("no program given (usage: memlens [options] [--] program [args...])"), -1;
    if ((o->duration > 0 || o->interval > 0) && !o->pid)
        return ml_error("--%s applies to -p PID only", o->duration > 0 ? "duration" : "interval"), -1;
    if (o->xml && !o->xml_file && o->xml_fd < 0)
        return ml_error("--xml=yes needs an XML destination: --xml-file=FILE or --xml-fd=N"), -1;
    return 0;
}

/* The option argv[optind - 1] named, without a value, for messages. */
static void report_bad(int c, const char *arg, const char *opt)
{
    if (c == '?' || c == ':')
        ml_error("unknown or incomplete option '%s' (see memlens --help)", opt);
    else if (c == OPT_TOOL)
        ml_error("--tool=%s is not supported: memlens does memcheck's leak checking only", arg);
    else if (c == 'o' || c == OPT_XML_FILE) {
        char why[512];
        snprintf(why, sizeof why, "%s", ml_last_error());
        ml_error("bad option '%s': %s", opt, why);
    }
    else if (arg)
        ml_error("bad value '%s' for option '%s' (see memlens --help)", arg, opt);
    else
        ml_error("out of memory");
}

enum ml_parse_result ml_options_parse(struct ml_options *o, int argc, char **argv)
{
    set_defaults(o);
    opterr = 0;
    optind = 0;                 /* 0, not 1: glibc then forgets a previous argv entirely */
    const struct option *table = long_opts();
    int c, index;
    while ((c = getopt_long(argc, argv, "+o:p:qvshd", table, &index)) != -1) {
        if (c == 'h') { ml_usage(); return ML_PARSE_EXIT_OK; }
        if (c == OPT_VERSION) { printf("memlens-%s\n", PACKAGE_VERSION); return ML_PARSE_EXIT_OK; }
        int rc = c == '?' || c == ':' ? -1
               : c == OPT_IGNORED ? note_ignored(o, "--", table[index].name)
               : c == 'd' ? note_ignored(o, "-", "d")
               : apply(o, c, optarg);
        if (rc != 0) {
            /* the option's own word, also when its value came as the next one */
            int apart = optarg && optind >= 2 && argv[optind - 1] == optarg;
            report_bad(c, c == OPT_IGNORED ? NULL : optarg, argv[optind - 1 - apart]);
            return ML_PARSE_ERROR;
        }
    }
    o->command = argv + optind;
    o->quiet = o->verbosity == 0;
    return check_modes(o) == 0 ? ML_PARSE_OK : ML_PARSE_ERROR;
}

void ml_options_free(struct ml_options *o)
{
    for (int i = 0; i < o->nignored; i++) free((char *)o->ignored[i]);
    free(o->ignored);
    free(o->suppressions);
    free(o->alloc_fns);
    o->ignored = o->suppressions = o->alloc_fns = NULL;
    o->nignored = o->nsuppressions = o->nalloc_fns = 0;
}
