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

struct ml_block;

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
    struct ml_word *words;    /* data NULL, region only scanned at exit: its words that
                                 may point at a block, by address; owned.  A sparse
                                 region keeps more (see `sparse`) */
    size_t nwords;
    int sparse;               /* a heap holding live blocks, read in pieces, not copied:
                                 words also holds every word that may be a vtable
                                 pointer, the headers of its chunks that are not live
                                 blocks, an arena's first 64 KiB and an mmapped chunk's
                                 prev_size; the live blocks' own headers and first
                                 words are in ml_snapshot.heads */
};

/* What a sparse capture kept of each live block, by the block's index in
 * the sorted blocks it was given (ml_snapshot_head). */
#define ML_SHAPE_STDSTRING 1u     /* its first words pass reach's stdstring test */
#define ML_SHAPE_LENGTH64 2u      /* ... the length64 test */
#define ML_SHAPE_NEWARRAY 4u      /* ... the newarray test */
#define ML_SHAPE_VTABLE 8u        /* its first word may be a vtable pointer */
#define ML_SHAPE_KEPT 0x80u       /* the block lies in a sparse region: these are known */

struct ml_heads {
    const struct ml_block *blocks;   /* the blocks, sorted by address (not owned) */
    size_t n;
    uint64_t *size_word;             /* per block: the word before it (glibc's chunk size) */
    unsigned char *shape;            /* per block: ML_SHAPE_* */
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
    struct ml_heads heads;         /* the live blocks of sparse regions; arrays owned */
};

/* Parse /proc/PID/maps text into regions (data left NULL).  Returns 0 or -errno. */
int ml_snapshot_parse_maps(struct ml_snapshot *snap, const char *maps_text);
/* The region containing addr, or NULL. */
struct ml_region *ml_snapshot_find(const struct ml_snapshot *snap, uint64_t addr);
/* Read a word of target memory from the captured data (in a sparse region:
 * a kept word, or a live block's header); 0 when not captured. */
int ml_snapshot_read_word(const struct ml_snapshot *snap, uint64_t addr, uint64_t *out);
/* The header word and ML_SHAPE_* bits a sparse capture kept of blocks[i]
 * (blocks: the sorted array the capture was given); 0 when it kept none. */
int ml_snapshot_head(const struct ml_snapshot *snap, const struct ml_block *blocks, size_t i,
                     uint64_t *size_word, unsigned *shape);
/* The kept word at addr of a region that has words (binary search); 0 when none. */
int ml_region_kept_word(const struct ml_region *r, uint64_t addr, uint64_t *out);
void ml_snapshot_free(struct ml_snapshot *snap);
/* Whether bytes [off, off + len) of region r surely read as zeros: private
 * anonymous memory whose pages pagemap shows neither present nor swapped
 * was never written.  0 when unsure. */
int ml_region_untouched(const struct ml_region *r, uint64_t off, uint64_t len);
/* ML_PAGE_* bits of the page holding addr; 0 when unknown or untouched. */
unsigned ml_snapshot_page(const struct ml_snapshot *snap, uint64_t addr);
const char *ml_region_kind_name(enum ml_region_kind kind);

#endif
