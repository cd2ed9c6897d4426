/* options.h - memlens's command line (DESIGN.md "Command line").
 *
 * Owns the parsed options; strings point into argv.
 */
#ifndef ML_OPTIONS_H
#define ML_OPTIONS_H

#include "render.h"

#define ML_MAX_SUPPRESSIONS 32

struct ml_options {
    enum ml_leak_check leak_check;
    unsigned show_kinds;         /* bits (1u << enum ml_leak_kind) */
    unsigned error_kinds;
    int error_exitcode;          /* 0: off */
    const char *suppressions[ML_MAX_SUPPRESSIONS];
    int nsuppressions;
    int gen_suppressions;
    int num_callers;
    int trace_children;
    int run_cxx_freeres;
    unsigned heuristics;
    const char *log_file, *html_file, *json_file;
    int pid;                     /* attach mode when > 0 */
    double duration;             /* seconds, 0 = until exit */
    double interval;             /* seconds between growth summaries, 0 = none */
    int quiet;
    char **command;              /* program and its arguments (run mode) */
};

enum ml_parse_result { ML_PARSE_OK = 0, ML_PARSE_EXIT_OK, ML_PARSE_ERROR };

/* Parse argv.  On ML_PARSE_EXIT_OK (--help, --version) the text was printed
 * to stdout; on ML_PARSE_ERROR the cause is in ml_last_error(). */
enum ml_parse_result ml_options_parse(struct ml_options *o, int argc, char **argv);
void ml_usage(void);

#endif
