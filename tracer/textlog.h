/* textlog.h - where each traced process's text report goes.
 *
 * One stream for every process (standard error, --log-fd=N, or a
 * --log-file whose name is the same for all), or one file per process when
 * the --log-file pattern holds %p or %n, as valgrind writes them.  Files
 * are report files (reportfile.h).  Owns the streams; prints nothing.
 */
#ifndef ML_TEXTLOG_H
#define ML_TEXTLOG_H

#include <stdio.h>

/* Choose the destination: pattern (NULL: none) before fd.  0, or -1 with
 * ml_error when a fixed file cannot be written or fd is not open. */
int ml_textlog_init(const char *pattern, int fd);

/* Whether each process writes its own file. */
int ml_textlog_per_process(void);

/* The stream for pid's text (its file is named on first use); NULL with
 * ml_error set when the name cannot be made. */
FILE *ml_textlog_stream(int pid);

/* pid's text is complete: close its own file (made to exist, empty when
 * nothing was said, as valgrind's log files are).  0, or -1 with ml_error
 * when not all of it was written. */
int ml_textlog_done(int pid);

/* Close every stream: 0, or -1 with ml_error naming the first file that
 * did not get all its text. */
int ml_textlog_close(void);

#endif
