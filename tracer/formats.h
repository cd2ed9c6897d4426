/* formats.h - the reports other tools read: valgrind's XML, SARIF, pprof.
 *
 * Checks before the run that each destination the options name can be
 * written, and after it opens each one and calls its renderer (report/
 * xml.c, sarif.c, pprof.c): --xml-file, a file name pattern (filepattern.h)
 * that gives a document per process when it holds %p or %n, else the first
 * process's, as one XML document holds one process; --xml-fd; --sarif;
 * --pprof.
 * Files are report files (reportfile.h).  Owns the streams while writing;
 * prints nothing: errors come back with ml_error set.
 */
#ifndef ML_FORMATS_H
#define ML_FORMATS_H

#include "model.h"
#include "options.h"
#include "render.h"

/* 0, or -1 with ml_error ("cannot write PATH: ...") when a fixed
 * destination cannot be created. */
int ml_formats_check(const struct ml_options *o);

/* Write every format the options ask for: 0 when each reached its
 * destination in full, else -1 with ml_error naming the first that did not. */
int ml_formats_write(const struct ml_options *o, const struct ml_report *rep,
                     const struct ml_render_opts *ro);

#endif
