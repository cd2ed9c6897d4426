/* reportfile.h - the files memlens writes its reports to.
 *
 * A report file is a stdio stream that creates its file only on the first
 * write (a run that fails before it reports leaves no empty file behind),
 * writes every byte to the end (short writes are resumed, EINTR retried) and
 * keeps the first error. Closing it says whether the whole report reached
 * the file. Owns nothing but the streams it hands out.
 */
#ifndef ML_REPORTFILE_H
#define ML_REPORTFILE_H

#include <stdio.h>

/* A stream for PATH; nothing is created yet. NULL (ml_error set) only when
 * memory runs out. */
FILE *ml_reportfile_open(const char *path);

/* Whether PATH could be created or overwritten, without creating it: 0, or
 * -errno with ml_error "cannot write PATH: ..." (an early, cheap check so
 * that a report that cannot be written fails before the program runs). */
int ml_reportfile_check(const char *path);

/* Flush and close F (NULL is fine): 0 when every byte written reached PATH,
 * else -errno with ml_error "cannot write PATH: <strerror>". */
int ml_reportfile_close(FILE *f, const char *path);

#endif
