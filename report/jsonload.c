/* jsonload.c - a saved JSON report back into the model (see jsonload.h).
 *
 * One function per section, the mirror of json.c's writers.  A failed
 * allocation sets ld->nomem and the walk goes on with what it has; the
 * caller then gets ENOMEM and nothing else.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sigabbrev_np */
#endif
#include "jsonload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frag.h"
#include "jsonr.h"
#include "reach.h"
#include "regions.h"
#include "signame.h"
#include "snapshot.h"
#include "stacktab.h"
#include "strpool.h"

typedef struct ml_jsonr jv;

struct loader {
    int nomem;
    struct ml_stacktab *stacks;    /* the process being loaded: its stacks' frames */
};

static void *alloc_array(struct loader *ld, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) ld->nomem = 1;
    return p;
}

static char *dup_str(struct loader *ld, const jv *v)
{
    const char *s = ml_jsonr_str(v);
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) ld->nomem = 1;
    return d;
}

static char **load_strv(struct loader *ld, const jv *arr)
{
    if (!arr || arr->type != ML_JSON_ARRAY) return NULL;
    size_t n = ml_jsonr_len(arr), k = 0;
    char **v = alloc_array(ld, n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        if (ml_jsonr_str(ml_jsonr_at(arr, i))) v[k++] = dup_str(ld, ml_jsonr_at(arr, i));
    return v;
}

static const jv *get(const jv *obj, const char *key) { return ml_jsonr_get(obj, key); }
static uint64_t get_uint(const jv *obj, const char *key) { return ml_jsonr_uint(get(obj, key), 0); }
static uint64_t get_hex(const jv *obj, const char *key) { return ml_jsonr_hex(get(obj, key), 0); }

/* ---- names back to values ---------------------------------------------------- */

static int kind_of(const char *key)
{
    for (int k = 0; key && k < ML_LK_COUNT; k++)
        if (strcmp(key, ml_leak_kind_key((enum ml_leak_kind)k)) == 0) return k;
    return -1;
}

static unsigned kinds_of(const jv *arr)
{
    unsigned bits = 0;
    for (size_t i = 0; i < ml_jsonr_len(arr); i++) {
        int k = kind_of(ml_jsonr_str(ml_jsonr_at(arr, i)));
        if (k >= 0) bits |= 1u << k;
    }
    return bits;
}

static unsigned heuristics_of(const jv *arr)
{
    unsigned bits = 0;
    for (size_t i = 0; i < ml_jsonr_len(arr); i++)
        for (unsigned bit = 1; bit <= ML_HEUR_ALL; bit <<= 1) {
            const char *name = ml_heuristic_name(bit), *s = ml_jsonr_str(ml_jsonr_at(arr, i));
            if (name && s && strcmp(name, s) == 0) bits |= bit;
        }
    return bits;
}

static int signal_of(const char *name)
{
    char buf[32];
    for (int sig = 1; name && sig < 65; sig++)
        if (strcmp(name, ml_signal_name(sig, buf, sizeof buf)) == 0) return sig;
    return 0;
}

static int region_kind_of(const char *name)
{
    for (int k = 0; name && k < ML_RK_COUNT; k++)
        if (strcmp(name, ml_region_kind_name((enum ml_region_kind)k)) == 0) return k;
    return ML_RK_OTHER;
}

static enum ml_heap_kind heap_kind_of(const char *key)
{
    for (int k = ML_HEAP_MAIN; key && k <= ML_HEAP_MMAPPED; k++)
        if (strcmp(key, ml_heap_kind_key((enum ml_heap_kind)k)) == 0) return (enum ml_heap_kind)k;
    return ML_HEAP_MAIN;
}

/* ---- stacks and records ------------------------------------------------------- */

/* The table's copy of string v, or NULL. */
static char *pool_str(struct loader *ld, const jv *v)
{
    const char *s = ml_jsonr_str(v);
    if (!s) return NULL;
    char *d = ml_strpool_get(ml_stacktab_strings(ld->stacks), s);
    if (!d) ld->nomem = 1;
    return d;
}

static void load_stack(struct loader *ld, const jv *arr, struct ml_stack_out *st)
{
    size_t n = ml_jsonr_len(arr);
    *st = (struct ml_stack_out){0};
    struct ml_frame_out *fr = n && ld->stacks ? alloc_array(ld, n, sizeof *fr) : NULL;
    for (size_t i = 0; fr && i < n; i++) {
        const jv *f = ml_jsonr_at(arr, i);
        struct ml_frame_out *o = &fr[i];
        o->address = get_hex(f, "address");
        o->function = pool_str(ld, get(f, "function"));
        o->file = pool_str(ld, get(f, "file"));
        o->line = (int)ml_jsonr_int(get(f, "line"), 0);
        o->module = pool_str(ld, get(f, "module"));
        o->inlined = ml_jsonr_bool(get(f, "inlined"), 0);
        o->mangled = pool_str(ld, get(f, "linkage_name"));
        for (size_t a = 0; a < 2; a++) o->aliases[a] = pool_str(ld, ml_jsonr_at(get(f, "aliases"), a));
    }
    if (fr && ml_stacktab_put(ld->stacks, fr, n, st) != 0) ld->nomem = 1;
    free(fr);
}

static void load_totals(const jv *t, struct ml_totals *out)
{
    out->blocks = get_uint(t, "blocks");
    out->bytes = get_uint(t, "bytes");
}

static void load_record(struct loader *ld, const jv *r, struct ml_leak_record *rec)
{
    int k = kind_of(ml_jsonr_str(get(r, "kind")));
    rec->kind = k < 0 ? ML_LK_DEFINITE : (enum ml_leak_kind)k;
    rec->blocks = get_uint(r, "blocks");
    rec->bytes = get_uint(r, "bytes");
    rec->indirect_bytes = get_uint(r, "indirect_bytes");
    rec->resident_bytes = get_uint(r, "resident_bytes");
    rec->swapped_bytes = get_uint(r, "swapped_bytes");
    rec->suppressed = ml_jsonr_bool(get(r, "suppressed"), 0);
    rec->suppression = rec->suppressed ? dup_str(ld, get(r, "suppression")) : NULL;
    rec->suppression_file = rec->suppressed ? dup_str(ld, get(r, "suppression_file")) : NULL;
    rec->suppression_line = (int)ml_jsonr_int(get(r, "suppression_line"), 0);
    const jv *via = get(r, "reachable_via_heuristic");
    for (int h = 0; h < ML_HEUR_COUNT; h++)
        load_totals(get(via, ml_heuristic_name(1u << h)), &rec->via_heuristic[h]);
    const jv *age = get(r, "age_seconds");
    if (age) {
        rec->has_age = 1;
        rec->age_oldest = ml_jsonr_double(get(age, "oldest"), 0);
        rec->age_newest = ml_jsonr_double(get(age, "newest"), 0);
    }
    load_stack(ld, get(r, "stack"), &rec->stack);
}


static void load_leaks(struct loader *ld, const jv *leaks, struct ml_proc_report *p)
{
    const jv *summary = get(leaks, "summary"), *recs = get(leaks, "records");
    for (int k = 0; k < ML_LK_COUNT; k++)
        load_totals(get(summary, ml_leak_kind_key((enum ml_leak_kind)k)), &p->summary[k]);
    load_totals(get(summary, "suppressed"), &p->summary[ML_LK_SUPPRESSED]);
    size_t n = ml_jsonr_len(recs);
    p->records = n ? alloc_array(ld, n, sizeof *p->records) : NULL;
    for (size_t i = 0; p->records && i < n; i++) load_record(ld, ml_jsonr_at(recs, i), &p->records[p->nrecords++]);
}

static void load_alloc(const jv *a, struct ml_alloc_stats *out)
{
    out->calls = get_uint(a, "calls");
    out->bytes = get_uint(a, "bytes");
    out->peak_live_bytes = get_uint(a, "peak_live_bytes");
    out->live_blocks = get_uint(a, "live_blocks");
    out->live_bytes = get_uint(a, "live_bytes");
    out->frees = get_uint(a, "frees");
    out->unknown_frees = get_uint(a, "unknown_frees");
}

static void load_exit(const jv *e, struct ml_proc_report *p)
{
    p->exit_how = ML_EXIT_UNKNOWN;
    if (get(e, "code")) {
        p->exit_how = ML_EXIT_CODE;
        p->exit_value = (int)ml_jsonr_int(get(e, "code"), 0);
    } else if (get(e, "signal")) {
        p->exit_how = ML_EXIT_SIGNAL;
        p->exit_value = signal_of(ml_jsonr_str(get(e, "signal")));
    } else if (ml_jsonr_bool(get(e, "detached"), 0)) {
        p->exit_how = ML_EXIT_DETACHED;
    }
}

/* ---- heap ------------------------------------------------------------------------ */

static void load_figures(const jv *o, struct ml_heap_figures *f)
{
    f->extent_bytes = get_uint(o, "extent_bytes");
    f->live_bytes = get_uint(o, "live_bytes");
    f->usable_bytes = get_uint(o, "usable_bytes");
    f->internal_fragmentation_bytes = get_uint(o, "internal_fragmentation_bytes");
    f->free_bytes = get_uint(o, "free_bytes");
    f->largest_free_bytes = get_uint(o, "largest_free_bytes");
    f->external_fragmentation = ml_jsonr_double(get(o, "external_fragmentation"), 0);
    f->resident_bytes = get_uint(o, "resident_bytes");
    f->resident_free_pages = get_uint(o, "resident_free_pages");
    f->trimmable_bytes = get_uint(o, "trimmable_bytes");
}

/* The strip's glyphs back to page states (json.c: L live, F free resident, . released). */
static void load_page_map(struct loader *ld, const jv *o, struct ml_heap_out *h)
{
    const jv *map = get(o, "page_map");
    const char *s = ml_jsonr_str(map);
    h->page_map_start = get_hex(o, "page_map_start");
    if (!s || !map->len) return;
    h->page_map = alloc_array(ld, map->len, 1);
    for (size_t i = 0; h->page_map && i < map->len; i++)
        h->page_map[i] = s[i] == 'L' ? ML_PAGE_LIVE : s[i] == 'F' ? ML_PAGE_FREE_RESIDENT
                       : s[i] == '.' ? ML_PAGE_FREE_RELEASED : 0;
    h->npages = h->page_map ? map->len : 0;
}

static void load_heap(struct loader *ld, const jv *o, struct ml_heap_out *h)
{
    if (!o || o->type != ML_JSON_OBJECT) return;
    h->present = 1;
    h->malloc_path = dup_str(ld, get(o, "malloc"));
    h->glibc_only = ml_jsonr_bool(get(o, "glibc_only"), 0);
    load_figures(o, &h->total);
    const jv *sites = get(o, "sites"), *parts = get(o, "parts"), *gaps = get(o, "gap_histogram");
    size_t n = ml_jsonr_len(sites);
    h->sites = n ? alloc_array(ld, n, sizeof *h->sites) : NULL;
    for (size_t i = 0; h->sites && i < n; i++) {
        const jv *s = ml_jsonr_at(sites, i);
        struct ml_heap_site *out = &h->sites[h->nsites++];
        out->blocks = get_uint(s, "blocks");
        out->live_bytes = get_uint(s, "live_bytes");
        out->resident_bytes = get_uint(s, "resident_bytes");
        out->pinned_pages = get_uint(s, "pinned_pages");
        load_stack(ld, get(s, "stack"), &out->stack);
    }
    n = ml_jsonr_len(parts);
    h->parts = n ? alloc_array(ld, n, sizeof *h->parts) : NULL;
    for (size_t i = 0; h->parts && i < n; i++) {
        const jv *s = ml_jsonr_at(parts, i);
        struct ml_heap_part *out = &h->parts[h->nparts++];
        out->kind = heap_kind_of(ml_jsonr_str(get(s, "kind")));
        out->start = get_hex(s, "start");
        out->end = get_hex(s, "end");
        load_figures(s, &out->fig);
    }
    size_t nb = sizeof h->gap_histogram / sizeof h->gap_histogram[0];
    for (size_t i = 0; i < ml_jsonr_len(gaps); i++) {   /* bucket i starts at 16 << i */
        uint64_t min = get_uint(ml_jsonr_at(gaps, i), "min_bytes");
        size_t b = 0;
        while (b + 1 < nb && (16ull << (b + 1)) <= min) b++;
        h->gap_histogram[b] = get_uint(ml_jsonr_at(gaps, i), "gaps");
    }
    load_page_map(ld, o, h);
}

/* ---- memory map, syscalls, shared memory --------------------------------------- */

static void load_regions(struct loader *ld, const jv *proc, struct ml_proc_report *p)
{
    const jv *regs = get(proc, "regions"), *own = get(proc, "memlens_regions");
    size_t n = ml_jsonr_len(regs);
    p->regions = n ? alloc_array(ld, n, sizeof *p->regions) : NULL;
    for (size_t i = 0; p->regions && i < n; i++) {
        const jv *r = ml_jsonr_at(regs, i);
        struct ml_region_out *o = &p->regions[p->nregions++];
        o->start = get_hex(r, "start");
        o->end = get_hex(r, "end");
        snprintf(o->perms, sizeof o->perms, "%s", ml_jsonr_str(get(r, "perms")) ? ml_jsonr_str(get(r, "perms")) : "");
        o->kind = region_kind_of(ml_jsonr_str(get(r, "kind")));
        o->path = dup_str(ld, get(r, "path"));
        if (!o->path && !(o->path = strdup(""))) ld->nomem = 1;
        o->offset = get_uint(r, "offset");
        o->build_id = dup_str(ld, get(r, "build_id"));
        o->memlens = ml_jsonr_str(get(r, "owner")) && strcmp(ml_jsonr_str(get(r, "owner")), "memlens") == 0;
        o->size = get_uint(r, "size");
        o->resident = get_uint(r, "resident");
        o->swapped = get_uint(r, "swapped");
        o->untouched = get_uint(r, "untouched");
        o->origin = dup_str(ld, get(r, "origin"));
        o->origin_seq = get_uint(r, "origin_seq");
        load_stack(ld, get(r, "stack"), &o->stack);
    }
    n = ml_jsonr_len(own);
    p->own_maps = n ? alloc_array(ld, n, sizeof *p->own_maps) : NULL;
    for (size_t i = 0; p->own_maps && i < n; i++) {
        p->own_maps[i].start = get_hex(ml_jsonr_at(own, i), "start");
        p->own_maps[i].end = get_hex(ml_jsonr_at(own, i), "end");
        p->nown_maps++;
    }
}

static void load_syscalls(struct loader *ld, const jv *proc, struct ml_proc_report *p)
{
    const jv *sc = get(proc, "syscalls"), *tl = get(proc, "timeline");
    if (!sc) return;
    p->have_syscalls = 1;
    for (int i = 0; i < ML_SC_COUNT; i++) p->syscalls[i] = get_uint(sc, ml_syscall_name(i));
    size_t n = ml_jsonr_len(tl);
    p->timeline = n ? alloc_array(ld, n, sizeof *p->timeline) : NULL;
    for (size_t i = 0; p->timeline && i < n; i++) {
        const jv *t = ml_jsonr_at(tl, i);
        struct ml_timeline_point *o = &p->timeline[p->ntimeline++];
        o->seconds = ml_jsonr_double(get(t, "seconds"), 0);
        o->seq = get_uint(t, "seq");
        o->brk_bytes = get_uint(t, "brk_bytes");
        o->mmap_bytes = get_uint(t, "mmap_bytes");
        o->memlens_bytes = get_uint(t, "memlens_bytes");
    }
}

static void load_shm(struct loader *ld, const jv *proc, struct ml_proc_report *p)
{
    const jv *shm = get(proc, "shm"), *ml = get(proc, "mapping_leaks");
    size_t n = ml_jsonr_len(shm);
    p->shm = n ? alloc_array(ld, n, sizeof *p->shm) : NULL;
    for (size_t i = 0; p->shm && i < n; i++) {
        const jv *s = ml_jsonr_at(shm, i);
        struct ml_shm_out *o = &p->shm[p->nshm++];
        const char *kind = ml_jsonr_str(get(s, "kind"));
        if (kind && strcmp(kind, "posix") == 0) o->path = dup_str(ld, get(s, "path"));
        o->shmid = (int)ml_jsonr_int(get(s, "shmid"), 0);
        o->key = ml_jsonr_int(get(s, "key"), 0);
        o->size = get_uint(s, "size");
        o->attached = get_hex(s, "attached");
        o->detached = ml_jsonr_bool(get(s, "detached"), 0);
        o->removed = ml_jsonr_bool(get(s, "removed"), 0);
        o->leaked = ml_jsonr_bool(get(s, "leaked"), 0);
        load_stack(ld, get(s, "stack"), &o->stack);
    }
    n = ml_jsonr_len(ml);
    p->mapping_leaks = n ? alloc_array(ld, n, sizeof *p->mapping_leaks) : NULL;
    for (size_t i = 0; p->mapping_leaks && i < n; i++) {
        const jv *s = ml_jsonr_at(ml, i);
        struct ml_mapping_leak *o = &p->mapping_leaks[p->nmapping_leaks++];
        o->mappings = get_uint(s, "mappings");
        o->bytes = get_uint(s, "bytes");
        o->resident_bytes = get_uint(s, "resident_bytes");
        load_stack(ld, get(s, "stack"), &o->stack);
    }
}

/* -p --interval: the sites that grew at each sample. */
static void load_growth(struct loader *ld, const jv *arr, struct ml_proc_report *p)
{
    size_t n = ml_jsonr_len(arr);
    p->growth = n ? alloc_array(ld, n, sizeof *p->growth) : NULL;
    for (size_t i = 0; p->growth && i < n; i++) {
        const jv *g = ml_jsonr_at(arr, i), *sites = get(g, "sites");
        struct ml_growth_point *o = &p->growth[p->ngrowth++];
        o->seconds = ml_jsonr_double(get(g, "seconds"), 0);
        o->growing = (unsigned)get_uint(g, "growing_sites");
        for (size_t k = 0; k < ml_jsonr_len(sites) && o->nsites < ML_GROWTH_TOP; k++) {
            const jv *s = ml_jsonr_at(sites, k);
            struct ml_growth_site *site = &o->sites[o->nsites++];
            site->grew = ml_jsonr_int(get(s, "grew_bytes"), 0);
            site->rate = ml_jsonr_double(get(s, "bytes_per_second"), 0);
            site->streak = (unsigned)get_uint(s, "intervals_in_a_row");
            site->bytes = get_uint(s, "bytes");
            site->blocks = get_uint(s, "blocks");
            load_stack(ld, get(s, "stack"), &site->stack);
        }
    }
}

/* --track-fds: the descriptors open at exit. */
static void load_fds(struct loader *ld, const jv *fds, struct ml_proc_report *p)
{
    const jv *list = get(fds, "descriptors");
    size_t n = ml_jsonr_len(list);
    if (!fds) return;
    p->have_fds = 1;
    p->fds_list_std = ml_jsonr_bool(get(fds, "list_std"), 0);
    p->fds = n ? alloc_array(ld, n, sizeof *p->fds) : NULL;
    for (size_t i = 0; p->fds && i < n; i++) {
        const jv *f = ml_jsonr_at(list, i);
        struct ml_fd_out *o = &p->fds[p->nfds++];
        o->fd = (int)ml_jsonr_int(get(f, "fd"), -1);
        o->kind = dup_str(ld, get(f, "kind"));
        o->path = dup_str(ld, get(f, "path"));
        o->family = dup_str(ld, get(f, "family"));
        o->address = dup_str(ld, get(f, "address"));
        o->function = dup_str(ld, get(f, "function"));
        o->inherited = ml_jsonr_bool(get(f, "inherited"), 0);
        o->std = ml_jsonr_bool(get(f, "std"), 0);
        if (ml_jsonr_str(get(f, "access"))) {
            o->have_info = 1;
            snprintf(o->access, sizeof o->access, "%s", ml_jsonr_str(get(f, "access")));
            o->cloexec = ml_jsonr_bool(get(f, "cloexec"), 0);
            o->pos = get_uint(f, "pos");
        }
        load_stack(ld, get(f, "stack"), &o->stack);
    }
}

/* ---- document -------------------------------------------------------------------- */

static void load_process(struct loader *ld, const jv *o, struct ml_proc_report *p)
{
    if (!(ld->stacks = p->stacks = ml_stacktab_new())) ld->nomem = 1;
    p->pid = (int)ml_jsonr_int(get(o, "pid"), 0);
    p->ppid = (int)ml_jsonr_int(get(o, "ppid"), 0);
    p->exe = dup_str(ld, get(o, "exe"));
    p->argv = load_strv(ld, get(o, "argv"));
    load_exit(get(o, "exit"), p);
    p->duration = ml_jsonr_double(get(o, "duration"), 0);
    p->scanned = ml_jsonr_bool(get(o, "scanned"), 0);
    p->unread_bytes = get_uint(o, "unread_bytes");
    p->uncopied_bytes = get_uint(o, "uncopied_bytes");
    p->saw_shim = ml_jsonr_bool(get(o, "saw_shim"), 0);
    p->not_recorded = dup_str(ld, get(o, "not_recorded"));
    p->lost_events = get_uint(o, "lost_events");
    p->stacks_full = ml_jsonr_bool(get(o, "stacks_full"), 0);
    p->not_recorded = dup_str(ld, get(o, "not_recorded"));
    p->lost_events = get_uint(o, "lost_events");
    p->stacks_full = ml_jsonr_bool(get(o, "stacks_full"), 0);
    load_alloc(get(o, "allocations"), &p->alloc);
    load_leaks(ld, get(o, "leaks"), p);
    load_heap(ld, get(o, "heap"), &p->heap);
    load_regions(ld, o, p);
    load_syscalls(ld, o, p);
    load_shm(ld, o, p);
    load_growth(ld, get(o, "growth"), p);
    load_fds(ld, get(o, "fds"), p);
}

static void load_options(struct loader *ld, const jv *o, struct ml_report_options *out)
{
    static const char *const leak_check[] = {"no", "summary", "full"};
    const char *lc = ml_jsonr_str(get(o, "leak_check"));
    out->leak_check = 2;
    for (int i = 0; lc && i < 3; i++)
        if (strcmp(lc, leak_check[i]) == 0) out->leak_check = i;
    out->show_kinds = kinds_of(get(o, "show_leak_kinds"));
    out->error_kinds = kinds_of(get(o, "errors_for_leak_kinds"));
    out->heuristics = heuristics_of(get(o, "leak_check_heuristics"));
    out->error_exitcode = (int)ml_jsonr_int(get(o, "error_exitcode"), 0);
    out->num_callers = (int)ml_jsonr_int(get(o, "num_callers"), 12);
    out->suppressions = load_strv(ld, get(o, "suppressions"));
    out->default_suppressions = ml_jsonr_bool(get(o, "default_suppressions"), 1);
    out->show_below_main = ml_jsonr_bool(get(o, "show_below_main"), 0);
    out->demangle = ml_jsonr_bool(get(o, "demangle"), 1);
    out->trace_children = ml_jsonr_bool(get(o, "trace_children"), 0);
    out->alloc_fns = load_strv(ld, get(o, "alloc_fns"));
}

static int load_document(const jv *doc, struct ml_report *r)
{
    struct loader ld = {0};
    const char *mode = ml_jsonr_str(get(doc, "mode"));
    const jv *procs = get(doc, "processes");
    r->mode = mode && strcmp(mode, "attach") == 0 ? "attach" : "run";
    r->command = load_strv(&ld, get(doc, "command"));
    load_options(&ld, get(doc, "options"), &r->options);
    size_t n = ml_jsonr_len(procs);
    r->procs = alloc_array(&ld, n, sizeof *r->procs);
    for (size_t i = 0; r->procs && i < n; i++) load_process(&ld, ml_jsonr_at(procs, i), &r->procs[r->nprocs++]);
    return ld.nomem ? -ENOMEM : 0;
}

int ml_report_load_text(const char *name, const char *text, size_t len, struct ml_report **out,
                        char *err, size_t errlen)
{
    char why[256] = "";
    *out = NULL;
    struct ml_jsonr *doc = ml_jsonr_parse(text, len, why, sizeof why);
    if (!doc) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", name, e == ENOMEM ? strerror(e) : why);
        errno = e;
        return -1;
    }
    const char *tool = ml_jsonr_str(get(doc, "tool"));
    if (!tool || strcmp(tool, "memlens") != 0 || ml_jsonr_int(get(doc, "schema"), 0) != 1 ||
        !get(doc, "processes")) {
        snprintf(err, errlen, "%s: not a memlens report (no \"tool\": \"memlens\", \"schema\": 1)", name);
        ml_jsonr_free(doc);
        errno = EINVAL;
        return -1;
    }
    struct ml_report *r = calloc(1, sizeof *r);
    int rc = r ? load_document(doc, r) : -ENOMEM;
    ml_jsonr_free(doc);
    if (rc != 0) {
        ml_report_free(r);
        snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
        errno = ENOMEM;
        return -1;
    }
    *out = r;
    return 0;
}

int ml_report_load(const char *path, struct ml_report **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    *out = NULL;
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    errno = 0;
    do {
        if (len + 65536 > cap) {
            char *nt = realloc(text, cap = (cap ? cap * 2 : 65536) + 65536);
            if (!nt) { errno = ENOMEM; break; }
            text = nt;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    int e = ferror(f) ? EIO : errno == ENOMEM ? ENOMEM : 0;
    fclose(f);
    int rc = e ? -1 : ml_report_load_text(path, text ? text : "", len, out, err, errlen);
    if (e) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
    }
    free(text);
    return rc;
}
