/* snapshot.c - parsing and querying the exit snapshot of one process.
 *
 * Owns the region array built from /proc/PID/maps text, region kinds, and
 * lookups of captured memory by address.
 */
#include "snapshot.h"
#include "blocks.h"
#include "memlens/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[ML_RK_COUNT] = {
    [ML_RK_OTHER] = "other", [ML_RK_TEXT] = "text", [ML_RK_RODATA] = "rodata",
    [ML_RK_DATA] = "data", [ML_RK_BSS] = "bss", [ML_RK_HEAP] = "heap",
    [ML_RK_STACK] = "stack", [ML_RK_TLS] = "tls", [ML_RK_MMAP_ANON] = "mmap-anon",
    [ML_RK_MMAP_FILE] = "mmap-file", [ML_RK_SHM] = "shm", [ML_RK_VDSO] = "vdso",
    [ML_RK_VVAR] = "vvar", [ML_RK_VSYSCALL] = "vsyscall", [ML_RK_GUARD] = "guard",
    [ML_RK_SESSION] = "memlens",
};

const char *ml_region_kind_name(enum ml_region_kind kind)
{
    return kind < ML_RK_COUNT && kind_names[kind] ? kind_names[kind] : "other";
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The kind of a region from its name and permissions; prev is the region
 * before it (for .bss, the anonymous mapping right after an object's data). */
static enum ml_region_kind classify(const struct ml_region *r, const struct ml_region *prev)
{
    const char *p = r->path;
    if (strcmp(p, "[heap]") == 0) return ML_RK_HEAP;
    if (strcmp(p, "[stack]") == 0) return ML_RK_STACK;
    if (strcmp(p, "[vdso]") == 0) return ML_RK_VDSO;
    if (strcmp(p, "[vvar]") == 0) return ML_RK_VVAR;
    if (strcmp(p, "[vsyscall]") == 0) return ML_RK_VSYSCALL;
    if (starts_with(p, "/memfd:" ML_SESSION_NAME) || starts_with(p, ML_SESSION_SHM_MAPS))
        return ML_RK_SESSION;
    if (starts_with(p, "/SYSV") || starts_with(p, "/dev/shm/")) return ML_RK_SHM;
    if (strcmp(r->perms, "---p") == 0) return ML_RK_GUARD;
    if (p[0] == '\0') {
        if (prev && prev->end == r->start && prev->kind == ML_RK_DATA && r->perms[1] == 'w')
            return ML_RK_BSS;
        return ML_RK_MMAP_ANON;
    }
    if (p[0] == '[') return ML_RK_OTHER;
    if (r->perms[3] == 's') return ML_RK_MMAP_FILE;
    if (r->perms[2] == 'x') return ML_RK_TEXT;
    /* A private writable mapping of a file is a loaded object's data. */
    if (r->perms[1] == 'w') return ML_RK_DATA;
    if (prev && prev->path && strcmp(prev->path, p) == 0) return ML_RK_RODATA;
    /* A read-only private file mapping not next to its object: data file or rodata. */
    return r->offset == 0 ? ML_RK_MMAP_FILE : ML_RK_RODATA;
}

/* A read-only file mapping of a loaded object (one that has executable
 * code mapped) is rodata even where it is not adjacent to the code. */
static void mark_objects(struct ml_region *regs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (regs[i].kind != ML_RK_MMAP_FILE || regs[i].perms[3] != 'p') continue;
        for (size_t j = 0; j < n; j++)
            if (regs[j].kind == ML_RK_TEXT && strcmp(regs[j].path, regs[i].path) == 0) {
                regs[i].kind = ML_RK_RODATA;
                break;
            }
    }
}

static int parse_line(const char *line, struct ml_region *r)
{
    unsigned long long start, end, off, inode;
    unsigned maj, min;
    int pathpos = 0;
    /* The fields before the path fit in far less than this; sscanf is given
     * them alone, as it measures the whole string (the rest of the text). */
    char head[160];
    size_t hlen = strcspn(line, "\n");
    if (hlen >= sizeof head) hlen = sizeof head - 1;
    memcpy(head, line, hlen);
    head[hlen] = '\0';
    if (sscanf(head, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, r->perms,
               &off, &maj, &min, &inode, &pathpos) < 7 || pathpos <= 0)
        return -EINVAL;
    const char *path = line + pathpos;
    while (*path == ' ' || *path == '\t') path++;      /* not past the newline */
    size_t len = strcspn(path, "\n");
    r->start = start;
    r->end = end;
    r->offset = off;
    r->inode = inode;
    r->path = strndup(path, len);
    return r->path ? 0 : -ENOMEM;
}

int ml_snapshot_parse_maps(struct ml_snapshot *snap, const char *text)
{
    size_t cap = 64, n = 0;
    struct ml_region *regs = calloc(cap, sizeof *regs);
    if (!regs) return -ENOMEM;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (n == cap) {
            struct ml_region *grown = realloc(regs, 2 * cap * sizeof *regs);
            if (!grown) goto nomem;
            memset(grown + cap, 0, cap * sizeof *regs);
            regs = grown;
            cap *= 2;
        }
        if (parse_line(line, &regs[n]) == 0) {
            regs[n].kind = classify(&regs[n], n ? &regs[n - 1] : NULL);
            n++;
        }
        line = nl ? nl + 1 : NULL;
    }
    mark_objects(regs, n);
    snap->regions = regs;
    snap->nregions = n;
    return 0;
nomem:
    for (size_t i = 0; i < n; i++) free(regs[i].path);
    free(regs);
    return -ENOMEM;
}

struct ml_region *ml_snapshot_find(const struct ml_snapshot *snap, uint64_t addr)
{
    size_t lo = 0, hi = snap->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct ml_region *r = &snap->regions[mid];
        if (addr < r->start) hi = mid;
        else if (addr >= r->end) lo = mid + 1;
        else return r;
    }
    return NULL;
}

int ml_region_untouched(const struct ml_region *r, uint64_t off, uint64_t len)
{
    int anon = r->kind == ML_RK_HEAP || r->kind == ML_RK_BSS || r->kind == ML_RK_MMAP_ANON;
    if (!r->pages || !anon || r->perms[3] != 'p' || len == 0) return 0;
    for (uint64_t k = off / ML_PAGE_SIZE; k < (off + len + ML_PAGE_SIZE - 1) / ML_PAGE_SIZE; k++)
        if (r->pages[k] & (ML_PAGE_PRESENT | ML_PAGE_SWAPPED)) return 0;
    return 1;
}

int ml_region_kept_word(const struct ml_region *r, uint64_t addr, uint64_t *out)
{
    size_t lo = 0, hi = r->words ? r->nwords : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->words[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == r->nwords || !r->words || r->words[lo].addr != addr) return 0;
    *out = r->words[lo].value;
    return 1;
}

int ml_snapshot_head(const struct ml_snapshot *snap, const struct ml_block *blocks, size_t i,
                     uint64_t *size_word, unsigned *shape)
{
    const struct ml_heads *h = &snap->heads;
    if (blocks != h->blocks || i >= h->n || !(h->shape[i] & ML_SHAPE_KEPT)) return 0;
    if (size_word) *size_word = h->size_word[i];
    if (shape) *shape = h->shape[i];
    return 1;
}

/* The header word of the live block right after addr, in a sparse region. */
static int head_after(const struct ml_snapshot *snap, uint64_t addr, uint64_t *out)
{
    const struct ml_heads *h = &snap->heads;
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->blocks[mid].addr < addr + 8) lo = mid + 1;
        else hi = mid;
    }
    if (lo == h->n || h->blocks[lo].addr != addr + 8) return 0;
    return ml_snapshot_head(snap, h->blocks, lo, out, NULL);
}

int ml_snapshot_read_word(const struct ml_snapshot *snap, uint64_t addr, uint64_t *out)
{
    struct ml_region *r = ml_snapshot_find(snap, addr);
    if (!r || addr + 8 > r->end) return 0;
    if (r->sparse) return ml_region_kept_word(r, addr, out) || head_after(snap, addr, out);
    if (!r->data) return 0;
    memcpy(out, r->data + (addr - r->start), 8);
    return 1;
}

void ml_snapshot_free(struct ml_snapshot *snap)
{
    for (size_t i = 0; i < snap->nregions; i++) {
        free(snap->regions[i].path);
        free(snap->regions[i].data);
        free(snap->regions[i].pages);
        free(snap->regions[i].words);
    }
    free(snap->regions);
    free(snap->heads.size_word);
    free(snap->heads.shape);
    free(snap->threads);
    free(snap->maps_text);
    memset(snap, 0, sizeof *snap);
}

unsigned ml_snapshot_page(const struct ml_snapshot *snap, uint64_t addr)
{
    const struct ml_region *r = ml_snapshot_find(snap, addr);
    if (!r || !r->pages) return 0;
    return r->pages[(addr - r->start) / ML_PAGE_SIZE];
}
