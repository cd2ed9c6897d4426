/* progressline.h - a progress line on the terminal while the exit analysis runs.
 *
 * ml_progress_start() begins watching one process's exit analysis: when it
 * has run for more than a second and stderr is a terminal, a helper thread
 * prints "memlens: pid P: PHASE: D of T blocks (S s)" on one line, updated
 * four times a second; ml_progress_stop() stops it and erases the line
 * before anything else is printed.  Nothing is printed when stderr is not a
 * terminal, or with -q.  Owns the helper thread and the struct ml_progress
 * the analysis writes.
 */
#ifndef ML_PROGRESSLINE_H
#define ML_PROGRESSLINE_H

#include "progress.h"       /* report/progress.h: the shared counters */

/* Begin watching pid's exit analysis (quiet: never print). */
void ml_progress_start(int pid, int quiet);
/* The counters the analysis being watched writes: NULL when none is. */
struct ml_progress *ml_progress_now(void);
/* Stop watching and erase the line; nothing when nothing is watched. */
void ml_progress_stop(void);

#endif
