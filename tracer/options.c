/* options.c - parsing memlens's command line into struct ml_options. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "errors.h"
#include "reach.h"

#define KIND_BIT(k) (1u << (k))
#define ALL_KINDS (KIND_BIT(ML_LK_REACHABLE) | KIND_BIT(ML_LK_POSSIBLE) | \
                   KIND_BIT(ML_LK_INDIRECT) | KIND_BIT(ML_LK_DEFINITE))

void ml_usage(void)
{
    fputs(
"usage: memlens [options] [--] program [args...]\n"
"       memlens [options] -p PID\n"
"\n"
"Finds memory leaks, heap fragmentation and wasted resident pages in an\n"
"unmodified program, with memcheck's leak kinds.\n"
"\n"
"leak checking:\n"
"  --leak-check=no|summary|full     what to report at exit [full]\n"
"  --show-leak-kinds=KINDS          kinds listed in full [definite,possible]\n"
"  --errors-for-leak-kinds=KINDS    kinds that count as errors [definite,possible]\n"
"        KINDS: comma list of definite,indirect,possible,reachable, or all, none\n"
"  --error-exitcode=N               exit with N when errors were found [off]\n"
"  --leak-check-heuristics=LIST     stdstring,length64,newarray,\n"
"                                   multipleinheritance, all or none [all]\n"
"  --suppressions=FILE              valgrind-format suppressions (repeatable)\n"
"  --gen-suppressions=no|yes|all    print a suppression after each record [no]\n"
"  --num-callers=N                  stack frames recorded per allocation [24]\n"
"  --run-cxx-freeres=no|yes         free libstdc++'s pool at exit, as valgrind [yes]\n"
"processes:\n"
"  --trace-children=no|yes          follow forked and exec'ed children [yes]\n"
"  -p, --pid=PID                    attach to a running process\n"
"  --duration=SECONDS               with -p: detach after this long\n"
"  --interval=SECONDS               with -p: every SECONDS, print the sites whose\n"
"                                   unfreed bytes grew\n"
"output:\n"
"  -o, --log-file=FILE              text report to FILE instead of stderr\n"
"  --json=FILE                      JSON report (schema 1)\n"
"  --html=FILE                      self-contained HTML report\n"
"  -q, --quiet                      only the loss records and the LEAK SUMMARY\n"
"  -h, --help                       this help\n"
"  --version                        print the version\n"
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
};

static const struct option long_opts[] = {
    {"leak-check", required_argument, 0, OPT_LEAK_CHECK},
    {"show-leak-kinds", required_argument, 0, OPT_SHOW_KINDS},
    {"errors-for-leak-kinds", required_argument, 0, OPT_ERROR_KINDS},
    {"error-exitcode", required_argument, 0, OPT_ERROR_EXITCODE},
    {"suppressions", required_argument, 0, OPT_SUPPRESSIONS},
    {"gen-suppressions", required_argument, 0, OPT_GEN_SUPP},
    {"num-callers", required_argument, 0, OPT_NUM_CALLERS},
    {"trace-children", required_argument, 0, OPT_TRACE_CHILDREN},
    {"run-cxx-freeres", required_argument, 0, OPT_CXX_FREERES},
    {"leak-check-heuristics", required_argument, 0, OPT_HEURISTICS},
    {"log-file", required_argument, 0, 'o'},
    {"html", required_argument, 0, OPT_HTML},
    {"json", required_argument, 0, OPT_JSON},
    {"pid", required_argument, 0, 'p'},
    {"duration", required_argument, 0, OPT_DURATION},
    {"interval", required_argument, 0, OPT_INTERVAL},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, OPT_VERSION},
    {0, 0, 0, 0},
};

/* A positive number of seconds, at most a year. */
static int parse_seconds(const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (!*arg || *end != '\0' || !(v > 0) || v > 366.0 * 86400) return -1;
    *out = v;
    return 0;
}

static int apply(struct ml_options *o, int c, const char *arg)
{
    switch (c) {
    case OPT_LEAK_CHECK:
        if (strcmp(arg, "no") == 0) o->leak_check = ML_LEAK_CHECK_NO;
        else if (strcmp(arg, "summary") == 0) o->leak_check = ML_LEAK_CHECK_SUMMARY;
        else if (strcmp(arg, "full") == 0 || strcmp(arg, "yes") == 0) o->leak_check = ML_LEAK_CHECK_FULL;
        else return -1;
        return 0;
    case OPT_SHOW_KINDS: return parse_kinds(arg, &o->show_kinds);
    case OPT_ERROR_KINDS: return parse_kinds(arg, &o->error_kinds);
    case OPT_ERROR_EXITCODE: return parse_int(arg, 0, 255, &o->error_exitcode);
    case OPT_SUPPRESSIONS:
        if (o->nsuppressions == ML_MAX_SUPPRESSIONS) return -1;
        o->suppressions[o->nsuppressions++] = arg;
        return 0;
    case OPT_GEN_SUPP:                /* valgrind's "all" asks for every record too */
        if (strcmp(arg, "all") == 0) { o->gen_suppressions = 1; return 0; }
        return parse_yesno(arg, &o->gen_suppressions);
    case OPT_NUM_CALLERS: return parse_int(arg, 1, 256, &o->num_callers);
    case OPT_TRACE_CHILDREN: return parse_yesno(arg, &o->trace_children);
    case OPT_CXX_FREERES: return parse_yesno(arg, &o->run_cxx_freeres);
    case OPT_HEURISTICS: return parse_heuristics(arg, &o->heuristics);
    case 'o': o->log_file = arg; return 0;
    case OPT_HTML: o->html_file = arg; return 0;
    case OPT_JSON: o->json_file = arg; return 0;
    case 'p': return parse_int(arg, 1, 0x7fffffff, &o->pid);
    case OPT_DURATION: return parse_seconds(arg, &o->duration);
    case OPT_INTERVAL: return parse_seconds(arg, &o->interval);
    case 'q': o->quiet = 1; return 0;
    }
    return -1;
}

static void set_defaults(struct ml_options *o)
{
    memset(o, 0, sizeof *o);
    o->leak_check = ML_LEAK_CHECK_FULL;
    o->show_kinds = KIND_BIT(ML_LK_DEFINITE) | KIND_BIT(ML_LK_POSSIBLE);
    o->error_kinds = KIND_BIT(ML_LK_DEFINITE) | KIND_BIT(ML_LK_POSSIBLE);
    o->num_callers = 24;
    o->trace_children = 1;
    o->run_cxx_freeres = 1;
    o->heuristics = ML_HEUR_ALL;
}

enum ml_parse_result ml_options_parse(struct ml_options *o, int argc, char **argv)
{
    set_defaults(o);
    opterr = 0;
    optind = 0;                 /* 0, not 1: glibc then forgets a previous argv entirely */
    int c;
    while ((c = getopt_long(argc, argv, "+o:p:qh", long_opts, NULL)) != -1) {
        if (c == 'h') { ml_usage(); return ML_PARSE_EXIT_OK; }
        if (c == OPT_VERSION) { printf("memlens-%s\n", PACKAGE_VERSION); return ML_PARSE_EXIT_OK; }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            ml_error("unknown or incomplete option '%s' (see memlens --help)", bad);
            return ML_PARSE_ERROR;
        }
        if (apply(o, c, optarg) != 0) {
            ml_error("bad value '%s' for option '%s' (see memlens --help)", optarg, argv[optind - 1]);
            return ML_PARSE_ERROR;
        }
    }
    o->command = argv + optind;
    if (o->pid && *o->command) {
        ml_error("give either -p PID or a program to run, not both");
        return ML_PARSE_ERROR;
    }
    if (!o->pid && !*o->command) {
        ml_error("no program given (usage: memlens [options] [--] program [args...])");
        return ML_PARSE_ERROR;
    }
    if ((o->duration > 0 || o->interval > 0) && !o->pid) {
        ml_error("--%s applies to -p PID only", o->duration > 0 ? "duration" : "interval");
        return ML_PARSE_ERROR;
    }
    return ML_PARSE_OK;
}
