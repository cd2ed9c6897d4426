/* fdscan.h - what a traced process has open, read from /proc at its exit.
 *
 * At PTRACE_EVENT_EXIT the descriptor table is still intact: fdscan.c lists
 * /proc/PID/fd, reads each link, and describes each socket the way valgrind
 * does (family, local and peer address) from a copy of it taken with
 * pidfd_getfd.  Owns the list it returns.
 */
#ifndef ML_FDSCAN_H
#define ML_FDSCAN_H

#include <stddef.h>
#include "openfds.h"

/* The open descriptors of process pid, read through its thread tid (one
 * whose /proc entry is readable), ascending, into *out (caller frees with
 * ml_fdscan_free).  Returns 0 or -errno. */
int ml_fdscan(int pid, int tid, struct ml_fd_seen **out, size_t *n);
void ml_fdscan_free(struct ml_fd_seen *v, size_t n);

#endif
