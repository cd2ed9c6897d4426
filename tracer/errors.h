/* errors.h - how tracer modules hand errors to the command line.
 *
 * Functions return 0 or a negative errno and may leave a sentence in the
 * thread's last-error buffer with ml_error(); only main.c prints it, as
 * "memlens: error: ...", and picks the exit status.
 */
#ifndef ML_ERRORS_H
#define ML_ERRORS_H

/* Exit statuses of memlens's own failures (the coreutils convention). */
#define ML_EXIT_FAILURE 125
#define ML_EXIT_CANNOT_EXEC 126
#define ML_EXIT_NOT_FOUND 127

void ml_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ml_last_error(void);

#endif
