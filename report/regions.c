/* regions.c - layout, shm and mapping leaks for the report (see regions.h). */
#include "regions.h"
#include "buildid.h"
#include "owner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *ml_syscall_name(int index)
{
    static const char *const names[ML_SC_COUNT] = {
        "brk", "mmap", "munmap", "mremap", "mprotect", "shmget", "shmat", "shmdt", "shmctl",
    };
    return index >= 0 && index < ML_SC_COUNT ? names[index] : NULL;
}

/* Resident bytes of [start, end) from the snapshot, or -1 when unknown.  The
 * range may span several regions (mprotect splits a mapping): each counts
 * by its page map, or, without one, by smaps when it lies wholly inside. */
static int64_t resident_in(const struct ml_snapshot *snap, uint64_t start, uint64_t end)
{
    int64_t total = 0;
    int known = 0;
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        uint64_t lo = r->start > start ? r->start : start, hi = r->end < end ? r->end : end;
        if (lo >= hi) continue;
        if (r->pages) {
            known = 1;
            for (uint64_t a = lo & ~(uint64_t)(ML_PAGE_SIZE - 1); a < hi; a += ML_PAGE_SIZE)
                if (r->pages[(a - r->start) / ML_PAGE_SIZE] & ML_PAGE_PRESENT) total += ML_PAGE_SIZE;
        } else if (lo == r->start && hi == r->end) {
            known = 1;
            total += (int64_t)r->resident;
        }
    }
    return known ? total : -1;
}

static const struct ml_prog_map *prog_at(const struct ml_memtrace *mt, uint64_t addr)
{
    for (size_t i = 0; mt && i < mt->nprog; i++)
        if (mt->prog[i].addr == addr) return &mt->prog[i];
    return NULL;
}

static int fill_region(const struct ml_regions_input *in, const struct ml_region *r,
                       struct ml_region_out *o)
{
    o->start = r->start;
    o->end = r->end;
    memcpy(o->perms, r->perms, sizeof o->perms);
    o->path = strdup(r->path);
    o->offset = r->offset;
    o->build_id = r->kind == ML_RK_TEXT ? ml_build_id_of(r->path, r->inode) : NULL;
    o->kind = r->kind;
    o->size = r->end - r->start;
    o->resident = r->resident;
    o->swapped = r->swapped;
    o->untouched = o->size > o->resident + o->swapped ? o->size - o->resident - o->swapped : 0;
    const struct ml_map_interval *iv = in->mt ? ml_memtrace_find(in->mt, r->start) : NULL;
    const char *origin = r->kind == ML_RK_HEAP ? "brk" : iv ? ml_syscall_name(iv->syscall) : "exec";
    o->origin = strdup(origin);
    o->origin_seq = iv ? iv->seq : 0;
    const struct ml_prog_map *pm = prog_at(in->mt, r->start);
    if (!o->path || !o->origin) return -ENOMEM;
    if (pm && ml_stack_resolve(in->stacks, in->sym, in->max_frames, in->stack_style, pm->stack, "mmap", &o->stack))
        return -ENOMEM;
    return 0;
}

static int build_layout(const struct ml_regions_input *in, struct ml_proc_report *out)
{
    const struct ml_snapshot *snap = in->snap;
    unsigned char *memlens = malloc(snap->nregions);
    out->regions = calloc(snap->nregions ? snap->nregions : 1, sizeof *out->regions);
    out->own_maps = calloc(snap->nregions ? snap->nregions : 1, sizeof *out->own_maps);
    if (!memlens || !out->regions || !out->own_maps || ml_owner_mark(snap, in->sym, memlens)) {
        free(memlens);
        return -ENOMEM;
    }
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        struct ml_region_out *o = &out->regions[out->nregions];
        if (r->kind == ML_RK_SESSION) {             /* memlens's own: listed apart */
            out->own_maps[out->nown_maps++] = (struct ml_span){r->start, r->end};
            continue;
        }
        out->nregions++;
        o->memlens = memlens[i];
        if (fill_region(in, r, o)) {
            free(memlens);
            return -ENOMEM;
        }
    }
    free(memlens);
    return 0;
}

/* Move memlens's anonymous mappings (the shim's .bss, its libraries') out
 * of the program's figures of the timeline, from the event that made each. */
static void timeline_apart(const struct ml_memtrace *mt, struct ml_proc_report *out)
{
    for (size_t i = 0; i < out->nregions; i++) {
        const struct ml_region_out *r = &out->regions[i];
        const struct ml_map_interval *iv = r->memlens ? ml_memtrace_find(mt, r->start) : NULL;
        if (!iv || !iv->anon) continue;
        for (size_t k = 0; k < out->ntimeline; k++) {
            struct ml_timeline_point *t = &out->timeline[k];
            if (t->seq < iv->seq || t->mmap_bytes < r->size) continue;
            t->mmap_bytes -= r->size;
            t->memlens_bytes += r->size;
        }
    }
}

static int build_shm(const struct ml_regions_input *in, struct ml_proc_report *out)
{
    const struct ml_memtrace *mt = in->mt;
    size_t n = mt->nshm + mt->nposix_shm;
    out->shm = calloc(n ? n : 1, sizeof *out->shm);
    if (!out->shm) return -ENOMEM;
    for (size_t i = 0; i < mt->nshm; i++) {
        const struct ml_shm_seg *s = &mt->shm[i];
        struct ml_shm_out *o = &out->shm[out->nshm++];
        o->shmid = s->shmid;
        o->key = s->key;
        o->size = s->size;
        o->attached = s->attached;
        o->detached = s->attaches > 0 && s->detaches >= s->attaches;
        o->removed = s->removed || (in->shm_exists && !in->shm_exists(s->shmid));
        o->leaked = !o->removed;
        if (s->stack && ml_stack_resolve(in->stacks, in->sym, in->max_frames, in->stack_style, s->stack, "shmget", &o->stack))
            return -ENOMEM;
    }
    for (size_t i = 0; i < mt->nposix_shm; i++) {
        struct ml_shm_out *o = &out->shm[out->nshm++];
        o->path = strdup(mt->posix_shm[i]);
        o->shmid = -1;
        o->key = -1;
        o->removed = in->file_exists ? !in->file_exists(mt->posix_shm[i]) : 0;
        o->leaked = !o->removed;
        if (!o->path) return -ENOMEM;
    }
    return 0;
}

/* The program's own anonymous mappings still mapped at exit, by stack. */
static int build_mapping_leaks(const struct ml_regions_input *in, struct ml_proc_report *out)
{
    const struct ml_memtrace *mt = in->mt;
    out->mapping_leaks = calloc(mt->nprog ? mt->nprog : 1, sizeof *out->mapping_leaks);
    if (!out->mapping_leaks) return -ENOMEM;
    uint32_t *stack_of = calloc(mt->nprog ? mt->nprog : 1, sizeof *stack_of);
    if (!stack_of) return -ENOMEM;
    for (size_t i = 0; i < mt->nprog; i++) {
        const struct ml_prog_map *pm = &mt->prog[i];
        const struct ml_map_interval *iv = ml_memtrace_find(mt, pm->addr);
        uint64_t bytes = ml_memtrace_mapped_bytes(mt, pm->addr, pm->len);
        if (!bytes || (iv && !iv->anon)) continue;
        size_t k = 0;
        while (k < out->nmapping_leaks && stack_of[k] != pm->stack) k++;
        struct ml_mapping_leak *l = &out->mapping_leaks[k];
        if (k == out->nmapping_leaks) {
            out->nmapping_leaks++;
            stack_of[k] = pm->stack;
            if (ml_stack_resolve(in->stacks, in->sym, in->max_frames, in->stack_style, pm->stack, "mmap", &l->stack)) {
                free(stack_of);
                return -ENOMEM;
            }
        }
        uint64_t end = pm->addr + ((pm->len + ML_PAGE_SIZE - 1) & ~(uint64_t)(ML_PAGE_SIZE - 1));
        int64_t res = in->snap->scanned ? resident_in(in->snap, pm->addr, end) : -1;
        l->mappings++;
        l->bytes += bytes;
        l->resident_bytes += res > 0 ? (uint64_t)res : 0;
    }
    free(stack_of);
    return 0;
}

int ml_regions_build(const struct ml_regions_input *in, struct ml_proc_report *out)
{
    int rc = 0;
    if (in->snap && in->snap->nregions) rc = build_layout(in, out);
    if (rc || !in->mt) return rc;
    out->have_syscalls = in->syscalls_watched;
    memcpy(out->syscalls, in->mt->counts, sizeof out->syscalls);
    if (in->syscalls_watched && in->mt->ntimeline) {
        out->timeline = malloc(in->mt->ntimeline * sizeof *out->timeline);
        if (!out->timeline) return -ENOMEM;
        memcpy(out->timeline, in->mt->timeline, in->mt->ntimeline * sizeof *out->timeline);
        out->ntimeline = in->mt->ntimeline;
        timeline_apart(in->mt, out);
    }
    if ((rc = build_shm(in, out))) return rc;
    return build_mapping_leaks(in, out);
}
