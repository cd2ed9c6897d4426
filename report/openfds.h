/* openfds.h - the descriptors open at exit (--track-fds=yes).
 *
 * openfds.c owns the table of who made each descriptor, filled in event
 * order from the shim's ML_EV_FD_OPEN / ML_EV_FD_CLOSE events, and builds a
 * report's list from it and from what the tracer found open in /proc at
 * exit: /proc is the truth about which descriptors are open and what they
 * are, the table only says which call and stack made each one.
 */
#ifndef ML_OPENFDS_H
#define ML_OPENFDS_H

#include <stddef.h>
#include <stdint.h>
#include "leaks.h"
#include "model.h"
#include "snapshot.h"
#include "symbols.h"

struct ml_fd_rec {
    uint64_t seq;          /* event that made it */
    uint32_t stack;        /* its stack id, 0 none */
    uint16_t fn;           /* enum ml_fd_fn (session.h), 0 = no record */
};

struct ml_fd_table {
    struct ml_fd_rec *recs;   /* indexed by descriptor */
    size_t cap;
};

/* Record fd as made by fn (0 or -ENOMEM); a close forgets it. */
int ml_fd_table_open(struct ml_fd_table *t, int fd, unsigned fn, uint32_t stack, uint64_t seq);
void ml_fd_table_close(struct ml_fd_table *t, int fd);
/* The same for first .. last (close_range, closefrom). */
void ml_fd_table_close_range(struct ml_fd_table *t, uint64_t first, uint64_t last);
/* The record of fd, or NULL when none. */
const struct ml_fd_rec *ml_fd_table_get(const struct ml_fd_table *t, int fd);
void ml_fd_table_free(struct ml_fd_table *t);

/* One descriptor as the tracer found it in /proc/PID/fd at exit. */
struct ml_fd_seen {
    int fd;
    char *target;          /* its link: "/etc/passwd", "pipe:[123]", "socket:[456]" */
    char *family;          /* sockets: "AF_INET"..., NULL when not a socket or unknown */
    char *address;         /* sockets: "127.0.0.1:80 <-> unbound", NULL unknown */
    int have_info;         /* the two below were read from /proc/PID/fdinfo/N */
    unsigned flags;        /* open flags (O_ACCMODE, O_APPEND, O_NONBLOCK...) */
    uint64_t pos;          /* file offset */
};

struct ml_fds_input {
    const struct ml_fd_seen *seen;   /* by descriptor, ascending */
    size_t nseen;
    const struct ml_fd_table *table; /* NULL: no record of any (no shim) */
    /* A forked child: its parent's records at the fork, which name who made
     * the descriptors it inherited (NULL: none). */
    const struct ml_fd_table *forked_from;
    struct ml_stack_source stacks;
    struct ml_symbolizer *sym;
    unsigned max_frames;
    int list_std;                    /* --track-fds=all */
    unsigned stack_style;          /* ML_STACK_* (leaks.h) */
    const int *own;                  /* the shim's own descriptors: left out */
    size_t nown;
};

/* The shim's own descriptors (session.h, ML_OWN_FDS_SYMBOL) as the exit
 * snapshot holds its list, into own[ML_OWN_FDS_MAX]; sym finds the list.
 * Returns how many. */
size_t ml_fds_own(const struct ml_snapshot *snap, struct ml_symbolizer *sym, int *own);

/* Fill out's fds (have_fds set). Returns 0 or -ENOMEM. */
int ml_fds_build(const struct ml_fds_input *in, struct ml_proc_report *out);
/* The function name of enum ml_fd_fn fn ("open", "socket"...), NULL for none. */
const char *ml_fd_fn_name(unsigned fn);
/* valgrind's line for f: "Open file descriptor 3: /etc/passwd",
 * "Open AF_INET socket 4: 127.0.0.1:80 <-> unbound". */
void ml_fd_title(char *buf, size_t len, const struct ml_fd_out *f);
/* Whether the text lists f: not a standard one (unless --track-fds=all). */
int ml_fd_listed(const struct ml_proc_report *p, const struct ml_fd_out *f);
/* Descriptors listed, and those counted as the standard three only. */
size_t ml_fds_std(const struct ml_proc_report *p);

#endif
