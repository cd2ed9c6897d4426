/* model.h - the finished report: what the renderers (text, JSON, HTML) print.
 *
 * Built by leaks.c from a snapshot, the live blocks and the symbolizer; owns
 * copies of every string so that it outlives them.  Renderers only read it.
 */
#ifndef ML_MODEL_H
#define ML_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "blocks.h"

enum ml_leak_kind {            /* memcheck's kinds; order = severity, low first */
    ML_LK_REACHABLE = 0, ML_LK_POSSIBLE, ML_LK_INDIRECT, ML_LK_DEFINITE,
    ML_LK_COUNT
};
#define ML_LK_SUPPRESSED ML_LK_COUNT   /* index of the suppressed totals */

const char *ml_leak_kind_key(enum ml_leak_kind k);    /* "definite", ... (JSON) */
const char *ml_leak_kind_text(enum ml_leak_kind k);   /* "definitely lost", ... */

struct ml_frame_out {
    uint64_t address;
    char *function;      /* NULL when unknown */
    char *file;          /* NULL when unknown */
    int line;
    char *module;        /* NULL when unknown */
    int inlined;
};

struct ml_stack_out {
    struct ml_frame_out *frames;  /* innermost first; frames[0] is the allocator */
    size_t nframes;
};

struct ml_leak_record {
    enum ml_leak_kind kind;
    uint64_t blocks;
    uint64_t bytes;             /* direct bytes */
    uint64_t indirect_bytes;    /* for definite records: bytes they keep lost */
    uint64_t resident_bytes;
    struct ml_stack_out stack;
    int suppressed;             /* 1 when a suppression matched */
    char *suppression;          /* its name, when suppressed */
};

struct ml_totals { uint64_t blocks, bytes; };

enum ml_exit_how { ML_EXIT_CODE = 0, ML_EXIT_SIGNAL, ML_EXIT_DETACHED, ML_EXIT_UNKNOWN };

struct ml_proc_report {
    int pid, ppid;
    char *exe;
    char **argv;                /* NULL-terminated */
    enum ml_exit_how exit_how;
    int exit_value;             /* code, or signal number */
    int scanned;                /* 0: memory could not be read, kinds unknown */
    int saw_shim;               /* 0: no allocation event source (no shim) */
    struct ml_alloc_stats alloc;
    struct ml_totals summary[ML_LK_COUNT + 1];  /* per kind, then suppressed */
    struct ml_leak_record *records;  /* sorted: bytes ascending, as memcheck */
    size_t nrecords;
};

struct ml_report {
    const char *mode;           /* "run" or "attach" */
    char **command;             /* NULL-terminated */
    struct ml_proc_report *procs;
    size_t nprocs;
};

void ml_proc_report_free(struct ml_proc_report *p);
void ml_report_free(struct ml_report *r);

#endif
