/* diff.h - what is new and what grew between two reports (--load --diff).
 *
 * Compares the loss records of a report with those of an OLD one, process
 * by process (the same executable, in the order they started), stack by
 * stack: two records are the same stack when their kind and every frame's
 * function, file and line agree (addresses differ from run to run).  Blocks
 * and bytes of records with one stack are added up on each side; suppressed
 * records count on neither.  Fills each process's diff (model.h), which
 * owns its records; OLD is only read.
 */
#ifndef ML_DIFF_H
#define ML_DIFF_H

#include "model.h"

/* Returns 0 or -ENOMEM. */
int ml_report_diff(struct ml_report *now, const struct ml_report *old);

#endif
