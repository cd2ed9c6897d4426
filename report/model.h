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
/* 1 for glibc's functions that call main, which valgrind shows as one
 * "(below main)" frame (__libc_start_call_main, __libc_start_main...). */
int ml_below_main(const char *function);

struct ml_frame_out {
    uint64_t address;
    char *function;      /* NULL when unknown */
    char *file;          /* NULL when unknown */
    int line;
    int inlined;         /* (beside line: a million 48-frame stacks, 8 bytes a frame) */
    char *module;        /* NULL when unknown */
    char *mangled;       /* linkage name (C++: "_Znwm"), NULL when not known */
    char *aliases[2];    /* other names of the function (glibc's __GI_setlocale for
                            setlocale, its DWARF name), which suppressions may use */
};

struct ml_stacktab;

/* A stack of the report: its frames are shared with the report's other
 * stacks in the process's table (stacktab.h: ml_stack_view lists them). */
struct ml_stack_out {
    const struct ml_stacktab *tab;  /* holds its frames; NULL when it has none */
    uint32_t top;                   /* the node of its innermost frame, the allocator's */
    uint32_t nframes;
};

struct ml_totals { uint64_t blocks, bytes; };

struct ml_leak_record {
    enum ml_leak_kind kind;
    uint64_t blocks;
    uint64_t bytes;             /* direct bytes */
    uint64_t indirect_bytes;    /* for definite records: bytes they keep lost */
    uint64_t resident_bytes;    /* bytes of its blocks on pages present in RAM */
    uint64_t swapped_bytes;     /* ... on pages swapped out */
    struct ml_stack_out stack;
    int has_age;                /* attach mode: the ages below are known */
    double age_oldest, age_newest;  /* seconds before the snapshot its oldest and
                                       newest blocks were allocated */
    struct ml_totals via_heuristic[4];  /* of its reachable blocks, those only an
                                   interior pointer a heuristic accepts reaches, by the
                                   heuristic's bit index (reach.h) */
    int suppressed;             /* 1 when a suppression matched */
    char *suppression;          /* its name, when suppressed */
    char *suppression_file;     /* where that entry is: file and line of its name */
    int suppression_line;
};


/* One region of /proc/PID/maps at exit, with residency (DESIGN "regions"). */
struct ml_region_out {
    uint64_t start, end;
    char perms[5];
    char *path;                 /* "" when anonymous */
    uint64_t offset;            /* file offset of start (file mappings) */
    char *build_id;             /* executable file mappings: the object's GNU
                                   build-id in hex; NULL when none or unknown */
    int kind;                   /* enum ml_region_kind (snapshot.h) */
    uint64_t size, resident, swapped, untouched;   /* bytes */
    char *origin;               /* syscall that made it ("mmap", "brk", ...), NULL unknown */
    uint64_t origin_seq;        /* when: the tracer's event counter */
    struct ml_stack_out stack;  /* who made it, when the shim saw the call */
    int memlens;                /* owner: 1 memlens (the shim, libraries loaded only
                                   for it, their .bss), 0 the program (owner.h) */
};

/* An allocation site's share of the heap (fragmentation culprits). */
struct ml_heap_site {
    uint64_t blocks, live_bytes, resident_bytes, pinned_pages;
    struct ml_stack_out stack;
};

/* Figures of DESIGN "Fragmentation and residency", for one heap or all. */
struct ml_heap_figures {
    uint64_t extent_bytes, live_bytes, usable_bytes, internal_fragmentation_bytes;
    uint64_t free_bytes, largest_free_bytes;
    double external_fragmentation;
    uint64_t resident_bytes, resident_free_pages;
    uint64_t trimmable_bytes;   /* what malloc_trim(0) could give back */
};

enum ml_heap_kind { ML_HEAP_MAIN = 0, ML_HEAP_ARENA, ML_HEAP_MMAPPED };

struct ml_heap_part {
    enum ml_heap_kind kind;
    uint64_t start, end;
    struct ml_heap_figures fig;
};

/* Heap page states for the fragmentation strip (one byte per page). */
enum ml_page_state { ML_PAGE_LIVE = 1, ML_PAGE_FREE_RESIDENT = 2, ML_PAGE_FREE_RELEASED = 3 };

struct ml_heap_out {
    int present;                /* 0: not computed */
    char *malloc_path;          /* the object whose malloc the program calls, NULL unknown; owned */
    int glibc_only;             /* 1: that malloc is not glibc's, and these figures, which read
                                   glibc's chunks, cover glibc's heap only */
    struct ml_heap_figures total;
    struct ml_heap_part *parts; /* main heap, arenas, mmapped chunks */
    size_t nparts;
    uint64_t gap_histogram[24]; /* free gaps by size: [2^(i+4), 2^(i+5)) bytes */
    struct ml_heap_site *sites; /* sorted by pinned_pages, then live_bytes, descending */
    size_t nsites;
    unsigned char *page_map;    /* main heap pages, enum ml_page_state */
    size_t npages;
    uint64_t page_map_start;
};

enum ml_syscall_index {
    ML_SC_BRK = 0, ML_SC_MMAP, ML_SC_MUNMAP, ML_SC_MREMAP, ML_SC_MPROTECT,
    ML_SC_SHMGET, ML_SC_SHMAT, ML_SC_SHMDT, ML_SC_SHMCTL, ML_SC_COUNT
};

struct ml_shm_out {
    char *path;                 /* POSIX shm (/dev/shm/NAME): its file; NULL for SysV */
    int shmid;
    int64_t key;
    uint64_t size;
    uint64_t attached;          /* address of the last attach, 0 never */
    int detached, removed;      /* at exit */
    int leaked;                 /* never removed: outlives the process */
    struct ml_stack_out stack;  /* shmget's caller, when known */
};

/* Heap size over time, from the syscall watcher. */
struct ml_timeline_point {
    uint64_t seq;               /* event counter */
    double seconds;             /* since the process started */
    uint64_t brk_bytes, mmap_bytes;  /* the program's */
    uint64_t memlens_bytes;     /* memlens's own anonymous mappings (its .bss), apart */
};

/* Anonymous mappings the program made itself and never unmapped, by stack. */
struct ml_mapping_leak {
    uint64_t mappings, bytes, resident_bytes;
    struct ml_stack_out stack;
};

/* A descriptor open at exit (--track-fds=yes), as valgrind lists them. */
struct ml_fd_out {
    int fd;
    char *kind;                 /* "file", "pipe", "socket", "anon" (eventfd, epoll...), "other" */
    char *path;                 /* what /proc/PID/fd/N links to: "/etc/passwd", "pipe:[123]" */
    char *family;               /* sockets: "AF_INET", "AF_UNIX", "pf-16"...; NULL otherwise */
    char *address;              /* sockets: "127.0.0.1:80 <-> 10.0.0.2:5000", "<unknown>" */
    char *function;             /* the call that made it ("open", "dup2"), NULL when not seen */
    int inherited;              /* open when the process started (or was forked) */
    int std;                    /* 0, 1 or 2 as inherited: counted, not listed */
    int have_info;              /* access, cloexec and pos are known (fdinfo) */
    char access[11];            /* "read", "write" or "read-write" */
    int cloexec;
    uint64_t pos;               /* file offset at exit */
    struct ml_stack_out stack;  /* who opened it, innermost first after `function` */
};

/* --diff: a stack of this report that is new or grew since the OLD report
 * (per kind; suppressed records left out).  The stack is records[record]'s. */
enum ml_diff_status { ML_DIFF_NEW = 0, ML_DIFF_GREW };

struct ml_diff_record {
    enum ml_diff_status status;
    enum ml_leak_kind kind;
    size_t record;              /* index into the process's records */
    uint64_t blocks, bytes;     /* now: every record of this kind and stack */
    uint64_t old_blocks, old_bytes;   /* in OLD (0 for a new stack) */
};

struct ml_proc_diff {
    int present;                /* 0: no --diff for this process */
    int old_pid;                /* the process of OLD it was compared with */
    struct ml_diff_record *records;   /* by bytes grown, most first */
    size_t nrecords;
    uint64_t gone;              /* stacks of OLD that no longer hold a block */
};

/* memlens -p --interval: one sample of the sites whose unfreed bytes grew
 * since the one before (the largest growth first, at most ML_GROWTH_TOP). */
#define ML_GROWTH_TOP 5
struct ml_growth_site {
    int64_t grew;               /* bytes since the previous sample */
    double rate;                /* bytes per second over that interval */
    unsigned streak;            /* samples in a row in which it grew */
    uint64_t bytes, blocks;     /* unfreed at the sample */
    struct ml_stack_out stack;
};
struct ml_growth_point {
    double seconds;             /* since recording started */
    unsigned growing;           /* sites that grew, all of them */
    struct ml_growth_site sites[ML_GROWTH_TOP];
    size_t nsites;
};

enum ml_exit_how { ML_EXIT_CODE = 0, ML_EXIT_SIGNAL, ML_EXIT_DETACHED, ML_EXIT_UNKNOWN };

struct ml_proc_report {
    int pid, ppid;
    char *exe;
    char **argv;                /* NULL-terminated */
    enum ml_exit_how exit_how;
    int exit_value;             /* code, or signal number */
    int scanned;                /* 0: memory could not be read, kinds unknown */
    uint64_t unread_bytes;      /* memory memlens could neither copy nor scan at exit:
                                   blocks referenced only from there look lost */
    uint64_t uncopied_bytes;    /* heap memory scanned for pointers but not copied (no
                                   room): heuristics and fragmentation miss it */
    int saw_shim;               /* 0: no allocation event source (no shim) */
    char *not_recorded;         /* why memlens could record nothing (its own limit: the
                                   session could not be made), or NULL */
    uint64_t lost_events;       /* allocation events the shim could not record */
    int stacks_full;            /* the stack table filled: later new stacks are missing */
    struct ml_alloc_stats alloc;
    struct ml_totals summary[ML_LK_COUNT + 1];  /* per kind, then suppressed */
    struct ml_leak_record *records;  /* sorted: bytes ascending, as memcheck */
    size_t nrecords;
    struct ml_stacktab *stacks;      /* every stack of this report (records, sites, regions,
                                        descriptors...) keeps its frames here; NULL: none */
    double duration;            /* seconds traced */
    struct ml_region_out *regions;  /* by address; nregions 0 when unknown */
    size_t nregions;
    struct ml_span { uint64_t start, end; } *own_maps;  /* memlens's own mappings in
                                   the process (its session), left out of regions */
    size_t nown_maps;
    struct ml_heap_out heap;
    int have_syscalls;
    uint64_t syscalls[ML_SC_COUNT];
    struct ml_shm_out *shm;
    size_t nshm;
    struct ml_timeline_point *timeline;
    size_t ntimeline;
    struct ml_mapping_leak *mapping_leaks;
    size_t nmapping_leaks;
    struct ml_growth_point *growth; /* -p --interval samples, oldest first */
    size_t ngrowth;
    int have_fds;               /* --track-fds=yes: fds below is the open set at exit */
    struct ml_fd_out *fds;      /* newest first, inherited last, as valgrind */
    size_t nfds;                /* all open ones, std included */
    int fds_list_std;           /* --track-fds=all: the text lists std ones too */
    struct ml_proc_diff diff;   /* --load --diff only */
};

/* The options that shaped a report, saved in its JSON ("options") so that
 * --load knows them.  Strings and lists are owned. */
struct ml_report_options {
    int leak_check;             /* enum ml_leak_check (render.h) */
    unsigned show_kinds, error_kinds;   /* bits (1u << enum ml_leak_kind) */
    unsigned heuristics;        /* enum ml_heuristic bits (reach.h) */
    int error_exitcode;         /* 0: off */
    int num_callers;
    int default_suppressions, show_below_main, demangle, trace_children;
    char **suppressions;        /* files applied, NULL-terminated; NULL: none */
    char **alloc_fns;           /* --alloc-fn names, NULL-terminated; NULL: none */
};

struct ml_report {
    const char *mode;           /* "run" or "attach" */
    char **command;             /* NULL-terminated */
    struct ml_proc_report *procs;
    size_t nprocs;
    struct ml_report_options options;
    char *diff_against;         /* --diff: the OLD report's path, else NULL */
};

/* A number with valgrind's thousands separators: 1,234,567. */
struct ml_num { char s[32]; };
struct ml_num ml_thousands(uint64_t v);

/* A loss record's title in memcheck's words: "48 bytes in 1 blocks are
 * definitely lost in loss record 1 of 11", or "288 (32 direct, 256
 * indirect) bytes in 1 blocks ..." when it keeps others lost.  index
 * counts from 1.  Returns snprintf's result. */
int ml_loss_record_title(char *buf, size_t len, const struct ml_leak_record *rec,
                         size_t index, size_t count);

/* memcheck's ERROR SUMMARY for leaks: each unsuppressed loss record of the
 * error kinds is one error from one context, each suppressed one counts as
 * suppressed; a leak check that is not full finds no errors. */
struct ml_error_counts { uint64_t errors, contexts, suppressed, suppressed_contexts; };
struct ml_error_counts ml_error_counts(const struct ml_proc_report *p, int full_check,
                                       unsigned error_kinds);

void ml_stack_out_free(struct ml_stack_out *st);
void ml_fd_out_free(struct ml_fd_out *f);
void ml_proc_report_free(struct ml_proc_report *p);
void ml_report_free(struct ml_report *r);
void ml_report_options_free(struct ml_report_options *o);
/* NULL-terminated copy of v (NULL for NULL), or NULL with errno ENOMEM. */
char **ml_strv_dup(char *const *v);

#endif
