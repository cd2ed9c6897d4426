/* snapshot.h - what the tracer captures of one process at its exit.
 *
 * A snapshot owns the parsed memory map (regions, with the bytes of the
 * regions that were read), the registers of every thread, and the identity
 * of the process.  report/ reads snapshots; only the tracer fills them.
 */
#ifndef ML_SNAPSHOT_H
#define ML_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

enum ml_region_kind {
    ML_RK_OTHER = 0, ML_RK_TEXT, ML_RK_RODATA, ML_RK_DATA, ML_RK_BSS, ML_RK_HEAP,
    ML_RK_STACK, ML_RK_TLS, ML_RK_MMAP_ANON, ML_RK_MMAP_FILE, ML_RK_SHM,
    ML_RK_VDSO, ML_RK_VVAR, ML_RK_VSYSCALL, ML_RK_GUARD, ML_RK_SESSION,
    ML_RK_COUNT
};

/* A word of a region read by scanning only: one that may point at a block. */
struct ml_word { uint64_t addr, value; };

struct ml_region {
    uint64_t start, end;      /* [start, end) */
    uint64_t offset;          /* file offset */
    uint64_t inode;
    char perms[5];            /* "rw-p" */
    char *path;               /* "" when anonymous; owned */
    enum ml_region_kind kind;
    unsigned char *data;      /* bytes read at exit, NULL when not read; owned */
    uint64_t resident, swapped; /* bytes, from smaps (0 when unknown) */
    unsigned char *pages;     /* per page ML_PAGE_* bits from pagemap, NULL when not read; owned */
    struct ml_word *words;    /* data NULL, region only scanned at exit (a large mapping
                                 holding no block): its words that may point at a
                                 block, by address; owned */
    size_t nwords;
};

#define ML_PAGE_PRESENT 1u
#define ML_PAGE_SWAPPED 2u
#define ML_PAGE_SIZE 4096u

#define ML_NREGS 27           /* struct user_regs_struct on x86_64, as words */
#define ML_REG_SP 19          /* rsp's index among them */
#define ML_REG_FS_BASE 21     /* fs_base's: the thread pointer */

struct ml_thread_state {
    int tid;
    int exited;               /* 1: thread ended before the snapshot; only its
                                 final sp is kept (it bounds its stack's scan) */
    uint64_t sp;
    uint64_t stack_lo, stack_hi; /* the thread's stack when known (clone3), else 0 */
    uint64_t regs[ML_NREGS];
};

struct ml_snapshot {
    struct ml_region *regions;     /* sorted by start */
    size_t nregions;
    struct ml_thread_state *threads;
    size_t nthreads;
    char *maps_text;               /* /proc/PID/maps as read at exit; owned */
    int scanned;                   /* 1 when memory and registers were read */
    uint64_t bytes_read;           /* bytes of memory copied from the process */
    uint64_t bytes_scanned;        /* bytes read and scanned, not kept (ml_region.words) */
    uint64_t unread_bytes;         /* bytes wanted but neither copied nor scanned: no memory */
    uint64_t uncopied_bytes;       /* bytes of regions holding blocks that there was no
                                      memory to copy, scanned instead (words kept) */
};

/* Parse /proc/PID/maps text into regions (data left NULL).  Returns 0 or -errno. */
int ml_snapshot_parse_maps(struct ml_snapshot *snap, const char *maps_text);
/* The region containing addr, or NULL. */
struct ml_region *ml_snapshot_find(const struct ml_snapshot *snap, uint64_t addr);
/* Read a word of target memory from the captured data; 0 when not captured. */
int ml_snapshot_read_word(const struct ml_snapshot *snap, uint64_t addr, uint64_t *out);
void ml_snapshot_free(struct ml_snapshot *snap);
/* Whether bytes [off, off + len) of region r surely read as zeros: private
 * anonymous memory whose pages pagemap shows neither present nor swapped
 * was never written.  0 when unsure. */
int ml_region_untouched(const struct ml_region *r, uint64_t off, uint64_t len);
/* ML_PAGE_* bits of the page holding addr; 0 when unknown or untouched. */
unsigned ml_snapshot_page(const struct ml_snapshot *snap, uint64_t addr);
const char *ml_region_kind_name(enum ml_region_kind kind);

#endif
