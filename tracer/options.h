/* options.h - memlens's command line (DESIGN.md "Command line").
 *
 * Owns the parsed options: every memcheck option with memcheck's default,
 * memlens's own options, and the list of valgrind options memlens accepts
 * but cannot honour (main.c warns once about each).  Strings point into
 * argv; the arrays are owned here (ml_options_free).
 */
#ifndef ML_OPTIONS_H
#define ML_OPTIONS_H

#include "render.h"

enum ml_gen_supp { ML_GEN_SUPP_NO = 0, ML_GEN_SUPP_YES, ML_GEN_SUPP_ALL };
enum ml_track_fds { ML_TRACK_FDS_NO = 0, ML_TRACK_FDS_YES, ML_TRACK_FDS_ALL };

struct ml_options {
    /* leak checking */
    enum ml_leak_check leak_check;   /* --leak-check [full]; yes = full */
    unsigned show_kinds;             /* bits (1u << enum ml_leak_kind) [definite,possible] */
    unsigned error_kinds;            /* --errors-for-leak-kinds [definite,possible] */
    unsigned heuristics;             /* --leak-check-heuristics [all] */
    int error_exitcode;              /* 0: off */
    const char **suppressions;       /* --suppressions, in order (no limit) */
    int nsuppressions;
    int default_suppressions;        /* [yes] */
    enum ml_gen_supp gen_suppressions;
    int show_error_list;             /* -s, --show-error-list [no] */
    /* stacks and names */
    int num_callers;                 /* [12] */
    int show_below_main;             /* [no] */
    int demangle;                    /* [yes] */
    const char **alloc_fns;          /* --alloc-fn, repeatable */
    int nalloc_fns;
    /* processes */
    int trace_children;              /* [no] */
    const char *trace_children_skip;        /* comma list of patterns, or NULL */
    const char *trace_children_skip_by_arg; /* likewise, matched against argv */
    int child_silent_after_fork;     /* [no] */
    int run_libc_freeres, run_cxx_freeres;  /* [yes] */
    enum ml_track_fds track_fds;     /* [no] */
    int pid;                         /* -p: attach mode when > 0 */
    double duration;                 /* seconds, 0 = until exit */
    double interval;                 /* seconds between growth summaries, 0 = none */
    /* outputs */
    const char *log_file;            /* -o, --log-file: a pattern (%p, %q{VAR}, %n) */
    int log_fd;                      /* --log-fd [2] */
    int xml;                         /* --xml=yes */
    const char *xml_file;            /* a pattern like log_file */
    int xml_fd;                      /* -1: none */
    const char *html_file, *json_file, *sarif_file, *pprof_file;
    const char *load_file, *diff_file;   /* --load, --diff */
    int verbosity;                   /* 1; -q makes it 0, each -v adds 1 */
    int quiet;                       /* verbosity == 0 */
    /* valgrind options accepted without effect, each named once ("--track-origins") */
    const char **ignored;
    int nignored;
    char **command;                  /* program and its arguments (run mode) */
};

enum ml_parse_result { ML_PARSE_OK = 0, ML_PARSE_EXIT_OK, ML_PARSE_ERROR };

/* Parse argv.  On ML_PARSE_EXIT_OK (--help, --version) the text was printed
 * to stdout; on ML_PARSE_ERROR the cause is in ml_last_error().  Call
 * ml_options_free afterwards in every case. */
enum ml_parse_result ml_options_parse(struct ml_options *o, int argc, char **argv);
void ml_options_free(struct ml_options *o);
void ml_usage(void);

#endif
