/* render.h - the renderers: memcheck-like text, schema-1 JSON and HTML.
 *
 * Each takes a finished report (model.h) and writes it to a stream; they
 * neither compute nor filter anything beyond what the options ask to show.
 */
#ifndef ML_RENDER_H
#define ML_RENDER_H

#include <stdio.h>
#include "model.h"

enum ml_leak_check { ML_LEAK_CHECK_NO = 0, ML_LEAK_CHECK_SUMMARY, ML_LEAK_CHECK_FULL };

struct ml_render_opts {
    unsigned show_kinds;        /* bit (1u << kind): records of these kinds are listed */
    enum ml_leak_check leak_check;
    int gen_suppressions;       /* print a suppression entry after each record */
    const char *tool_version;   /* PACKAGE_VERSION */
    int quiet;                  /* only leak records and summaries */
};

int ml_render_text(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);
int ml_render_json(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);
/* One self-contained HTML page (inline CSS, JS and SVG; the data as a JSON
 * island); every record of every kind, as in the JSON. */
int ml_render_html(FILE *out, const struct ml_report *r, const struct ml_render_opts *o);

#endif
