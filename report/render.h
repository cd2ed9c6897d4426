/* render.h - the renderers: memcheck-like text, schema-1 JSON, HTML,
 * valgrind's XML, SARIF and pprof.
 *
 * Each takes a finished report (model.h) and writes it to a stream; they
 * neither compute nor filter anything beyond what the options ask to show.
 */
#ifndef ML_RENDER_H
#define ML_RENDER_H

#include <errno.h>
#include <stdio.h>
#include "model.h"

/* The end of a renderer's writing: 0, or -1 with errno set when out could
 * not take all of it (a write error, or a flush that failed). */
static inline int ml_render_flushed(FILE *out)
{
    if (fflush(out) != 0)
        return -1;
    if (ferror(out)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

enum ml_leak_check { ML_LEAK_CHECK_NO = 0, ML_LEAK_CHECK_SUMMARY, ML_LEAK_CHECK_FULL };

struct ml_render_opts {
    unsigned show_kinds;        /* bit (1u << kind): records of these kinds are listed */
    enum ml_leak_check leak_check;
    int gen_suppressions;       /* print a suppression entry after each record */
    const char *tool_version;   /* PACKAGE_VERSION */
    int quiet;                  /* only leak records and summaries */
    unsigned error_kinds;       /* bit (1u << kind): kinds that are errors (SARIF results) */
    char *const *tool_argv;     /* memlens's own command line up to the program
                                   (XML <vargv>); NULL: not known */
    const char *const *alloc_fns;   /* --alloc-fn names (nalloc_fns of them) */
    int nalloc_fns;
    int parent_pid_line;        /* the banner says "Parent PID:" (valgrind does when
                                   its text goes to a file) */
    int show_error_list;        /* -s: no "rerun with: -s" hint */
    int verbose;                /* -v: the suppression files read, and each entry's use */
    const char *const *suppression_files;   /* in the order they were read */
    int nsuppression_files;
};

/* The text report of every process of r: banner, then what ml_render_text_end writes. */
int ml_render_text(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);
/* The text a process starts with, as valgrind's preamble (nothing with quiet). */
int ml_render_text_banner(FILE *out, int pid, int ppid, char *const *argv,
                          const struct ml_render_opts *o);
/* The text process p of r ends with: heap and leak summaries, loss records,
 * memlens's own sections, the ERROR SUMMARY.  r may be NULL (it only names
 * the old report of a --diff). */
int ml_render_text_end(FILE *out, const struct ml_report *r, const struct ml_proc_report *p,
                       const struct ml_render_opts *o);
int ml_render_json(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);
/* One self-contained HTML page (inline CSS, JS and SVG; the data as a JSON
 * island); every record of every kind, as in the JSON. */
int ml_render_html(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);

/* valgrind's XML output protocol 4 (memcheck's) for one process p of r: the
 * records of the shown kinds as Leak_* errors, suppressions with
 * gen_suppressions, suppcounts.  See xml.c. */
int ml_render_xml(FILE *out, const struct ml_report *r, const struct ml_proc_report *p,
                  const struct ml_render_opts *o);
/* SARIF 2.1.0: one result per unsuppressed record of the error kinds.  See sarif.c. */
int ml_render_sarif(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);
/* A gzipped pprof profile.proto of every process's leaks and live heap.  See pprof.c. */
int ml_render_pprof(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);

#endif
