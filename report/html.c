/* html.c - the self-contained HTML report.
 *
 * Writes one page that opens from disk with no network: inline CSS and JS
 * (report/html.css and report/html.js, compiled in as html_assets.h) and
 * the report's data as a JSON island, <script type="application/json">,
 * written with jsonw (which escapes '<', '>' and '&', so no string from
 * the target can close the element).  The page's script builds the DOM
 * from the island with textContent and setAttribute only; a per-page nonce
 * in a Content-Security-Policy lets no other script run and nothing load.
 *
 * The island (what html.js reads; not a public contract like the JSON):
 *   { "tool", "version", "mode", "command": [...],
 *     "show_kinds": ["definite", ...] (--show-leak-kinds), "alloc_fns": [...],
 *     "processes": [ { "pid", "ppid", "exe", "argv", "exit", "duration",
 *        "scanned", "unread_bytes", "uncopied_bytes", "saw_shim", "alloc": {...},
 *        "summary": {"definite": [blocks, bytes], ..., "suppressed": [...]},
 *        "records": [[kind, blocks, bytes, indirect, resident, suppression|null,
 *                     [frame...], [oldest, newest] seconds (attach) or null]],
 *        "regions": [{...}], "memlens_regions": [[start, end]] (the session),
 *        "heap": {...}|null, "syscalls": {...}|null,
 *        "shm": [{...}], "timeline": [[seconds, seq, brk, mmap, memlens]],
 *        "mapping_leaks": [[mappings, bytes, resident, [frame...]]],
 *        "fds": null (no --track-fds) or {"open", "std", "list_std",
 *                "list": [[fd, title, kind, function|null, inherited, std, [frame...]]]},
 *        "diff": null or {"old_pid", "gone", "records": [[status (0 new, 1 grew), kind,
 *                 blocks, bytes, old_blocks, old_bytes, record index]]},
 *        "growth": [[seconds, growing, [[grew, rate, streak, bytes, blocks,
 *                    [frame...]]...]]] (-p --interval samples) } ],
 *     "diff_against": OLD's path (--diff) or null,
 *     "strings": [...],
 *     "frames": [[address, function, file, line, module, inlined, mangled]] }
 * kind is 0 reachable .. 3 definite (enum ml_leak_kind).  A frame is an
 * index into "frames", whose strings are indexes into "strings" (-1: none):
 * stacks repeat, so 100k records stay a few megabytes.
 *
 * Owns only the string and frame tables while it writes.  Errors (stream,
 * memory) are returned; nothing is printed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sigabbrev_np */
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "allocfns.h"
#include "html_assets.h"
#include "jsonw.h"
#include "openfds.h"
#include "regions.h"
#include "render.h"
#include "signame.h"
#include "snapshot.h"
#include "stacktab.h"

/* ---- string and frame tables ------------------------------------------------ */

struct str_ent {
    UT_hash_handle hh;
    int32_t index;
    char s[];
};

struct frame_key {              /* no padding: hashed as bytes */
    uint64_t address;
    int32_t function, file, line, module, inlined, mangled, zero;
};

struct frame_ent {
    UT_hash_handle hh;
    struct frame_key key;
    int32_t index;
};

struct tables {
    struct str_ent *strings;
    int32_t nstrings;
    struct frame_ent *frames;
    int32_t nframes;
    int oom;
};

static int32_t str_index(struct tables *t, const char *s)
{
    struct str_ent *e;

    if (!s)
        return -1;
    HASH_FIND_STR(t->strings, s, e);
    if (e)
        return e->index;
    if (!(e = malloc(sizeof *e + strlen(s) + 1))) {
        t->oom = 1;
        return -1;
    }
    strcpy(e->s, s);
    e->index = t->nstrings;
    HASH_ADD_STR(t->strings, s, e);
    if (!e->hh.tbl) {
        free(e);
        t->oom = 1;
        return -1;
    }
    return t->nstrings++;
}

static int32_t frame_index(struct tables *t, const struct ml_frame_out *f)
{
    struct frame_key k;
    struct frame_ent *e;

    memset(&k, 0, sizeof k);
    k.address = f->address;
    k.function = str_index(t, f->function);
    k.file = str_index(t, f->file);
    k.line = f->line;
    k.module = str_index(t, f->module);
    k.inlined = f->inlined;
    k.mangled = str_index(t, f->mangled);
    HASH_FIND(hh, t->frames, &k, sizeof k, e);
    if (e)
        return e->index;
    if (!(e = calloc(1, sizeof *e))) {
        t->oom = 1;
        return -1;
    }
    e->key = k;
    e->index = t->nframes;
    HASH_ADD(hh, t->frames, key, sizeof e->key, e);
    if (!e->hh.tbl) {
        free(e);
        t->oom = 1;
        return -1;
    }
    return t->nframes++;
}

static void tables_free(struct tables *t)
{
    struct str_ent *s, *stmp;
    struct frame_ent *f, *ftmp;

    HASH_ITER(hh, t->strings, s, stmp) {
        HASH_DEL(t->strings, s);
        free(s);
    }
    HASH_ITER(hh, t->frames, f, ftmp) {
        HASH_DEL(t->frames, f);
        free(f);
    }
}

/* Both tables in the order their entries were made (uthash keeps it). */
static void write_tables(struct ml_jsonw *w, const struct tables *t)
{
    ml_jsonw_key(w, "strings");
    ml_jsonw_begin_array(w);
    for (const struct str_ent *s = t->strings; s; s = s->hh.next)
        ml_jsonw_string(w, s->s);
    ml_jsonw_end_array(w);
    ml_jsonw_key(w, "frames");
    ml_jsonw_begin_array(w);
    for (const struct frame_ent *f = t->frames; f; f = f->hh.next) {
        ml_jsonw_begin_array(w);
        ml_jsonw_stringf(w, "0x%" PRIx64, f->key.address);
        ml_jsonw_int(w, f->key.function);
        ml_jsonw_int(w, f->key.file);
        ml_jsonw_int(w, f->key.line);
        ml_jsonw_int(w, f->key.module);
        ml_jsonw_int(w, f->key.inlined);
        ml_jsonw_int(w, f->key.mangled);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
}

/* ---- island: one process ------------------------------------------------------- */

struct island {
    struct ml_jsonw w;
    struct tables t;
};

static void put_stack(struct island *is, const struct ml_stack_out *st)
{
    ml_jsonw_begin_array(&is->w);
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes; i++)
        ml_jsonw_int(&is->w, frame_index(&is->t, ml_stack_node(st->tab, node, &node)));
    ml_jsonw_end_array(&is->w);
}

static void put_hex(struct ml_jsonw *w, const char *key, uint64_t v)
{
    ml_jsonw_key(w, key);
    ml_jsonw_stringf(w, "0x%" PRIx64, v);
}

static void put_strv(struct ml_jsonw *w, const char *key, char *const *v)
{
    ml_jsonw_key(w, key);
    ml_jsonw_begin_array(w);
    for (; v && *v; v++)
        ml_jsonw_string(w, *v);
    ml_jsonw_end_array(w);
}

static void put_exit(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    char name[32];

    ml_jsonw_key(w, "exit");
    if (p->exit_how == ML_EXIT_UNKNOWN) {
        ml_jsonw_null(w);
        return;
    }
    ml_jsonw_begin_object(w);
    if (p->exit_how == ML_EXIT_CODE)
        ml_jsonw_key_int(w, "code", p->exit_value);
    else if (p->exit_how == ML_EXIT_SIGNAL) {
        ml_jsonw_key_string(w, "signal", ml_signal_name(p->exit_value, name, sizeof name));
        ml_jsonw_key_int(w, "number", p->exit_value);
    } else
        ml_jsonw_key_bool(w, "detached", 1);
    ml_jsonw_end_object(w);
}

static void put_alloc(struct ml_jsonw *w, const struct ml_alloc_stats *a)
{
    ml_jsonw_key(w, "alloc");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_uint(w, "calls", a->calls);
    ml_jsonw_key_uint(w, "bytes", a->bytes);
    ml_jsonw_key_uint(w, "frees", a->frees);
    ml_jsonw_key_uint(w, "peak_live_bytes", a->peak_live_bytes);
    ml_jsonw_key_uint(w, "live_blocks", a->live_blocks);
    ml_jsonw_key_uint(w, "live_bytes", a->live_bytes);
    ml_jsonw_end_object(w);
}

static void put_summary(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_key(w, "summary");
    ml_jsonw_begin_object(w);
    for (int k = 0; k <= ML_LK_SUPPRESSED; k++) {
        ml_jsonw_key(w, k == ML_LK_SUPPRESSED ? "suppressed" : ml_leak_kind_key((enum ml_leak_kind)k));
        ml_jsonw_begin_array(w);
        ml_jsonw_uint(w, p->summary[k].blocks);
        ml_jsonw_uint(w, p->summary[k].bytes);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_object(w);
}

static void put_records(struct island *is, const struct ml_proc_report *p)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_key(w, "records");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nrecords; i++) {
        const struct ml_leak_record *rec = &p->records[i];
        ml_jsonw_begin_array(w);
        ml_jsonw_int(w, rec->kind);
        ml_jsonw_uint(w, rec->blocks);
        ml_jsonw_uint(w, rec->bytes);
        ml_jsonw_uint(w, rec->indirect_bytes);
        ml_jsonw_uint(w, rec->resident_bytes);
        ml_jsonw_string(w, rec->suppressed ? (rec->suppression ? rec->suppression : "") : NULL);
        put_stack(is, &rec->stack);
        if (rec->has_age) {
            ml_jsonw_begin_array(w);
            ml_jsonw_double(w, rec->age_oldest);
            ml_jsonw_double(w, rec->age_newest);
            ml_jsonw_end_array(w);
        } else {
            ml_jsonw_null(w);
        }
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
}

static void put_region(struct island *is, const struct ml_region_out *r)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_begin_object(w);
    put_hex(w, "start", r->start);
    put_hex(w, "end", r->end);
    ml_jsonw_key_string(w, "perms", r->perms);
    ml_jsonw_key_string(w, "kind", ml_region_kind_name((enum ml_region_kind)r->kind));
    ml_jsonw_key_string(w, "path", r->path);
    ml_jsonw_key_uint(w, "size", r->size);
    ml_jsonw_key_uint(w, "resident", r->resident);
    ml_jsonw_key_uint(w, "swapped", r->swapped);
    ml_jsonw_key_uint(w, "untouched", r->untouched);
    ml_jsonw_key_string(w, "origin", r->origin);
    ml_jsonw_key_string(w, "owner", r->memlens ? "memlens" : "program");
    ml_jsonw_key(w, "stack");
    put_stack(is, &r->stack);
    ml_jsonw_end_object(w);
}

static void put_regions(struct island *is, const struct ml_proc_report *p)
{
    ml_jsonw_key(&is->w, "regions");
    ml_jsonw_begin_array(&is->w);
    for (size_t i = 0; i < p->nregions; i++)
        put_region(is, &p->regions[i]);
    ml_jsonw_end_array(&is->w);
    ml_jsonw_key(&is->w, "memlens_regions");
    ml_jsonw_begin_array(&is->w);
    for (size_t i = 0; i < p->nown_maps; i++) {
        ml_jsonw_begin_array(&is->w);
        ml_jsonw_stringf(&is->w, "0x%" PRIx64, p->own_maps[i].start);
        ml_jsonw_stringf(&is->w, "0x%" PRIx64, p->own_maps[i].end);
        ml_jsonw_end_array(&is->w);
    }
    ml_jsonw_end_array(&is->w);
}

/* ---- island: heap ----------------------------------------------------------------- */

static void put_figures(struct ml_jsonw *w, const struct ml_heap_figures *f)
{
    ml_jsonw_key_uint(w, "extent_bytes", f->extent_bytes);
    ml_jsonw_key_uint(w, "live_bytes", f->live_bytes);
    ml_jsonw_key_uint(w, "usable_bytes", f->usable_bytes);
    ml_jsonw_key_uint(w, "internal_fragmentation_bytes", f->internal_fragmentation_bytes);
    ml_jsonw_key_uint(w, "free_bytes", f->free_bytes);
    ml_jsonw_key_uint(w, "largest_free_bytes", f->largest_free_bytes);
    ml_jsonw_key_double(w, "external_fragmentation", f->external_fragmentation);
    ml_jsonw_key_uint(w, "resident_bytes", f->resident_bytes);
    ml_jsonw_key_uint(w, "resident_free_pages", f->resident_free_pages);
    ml_jsonw_key_uint(w, "trimmable_bytes", f->trimmable_bytes);
}

static void put_heap_parts(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    static const char *const kinds[] = {"main", "arena", "mmapped"};

    ml_jsonw_key(w, "parts");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < h->nparts; i++) {
        const struct ml_heap_part *part = &h->parts[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_string(w, "kind", (unsigned)part->kind < 3 ? kinds[part->kind] : "other");
        put_hex(w, "start", part->start);
        put_hex(w, "end", part->end);
        put_figures(w, &part->fig);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_key(w, "gaps");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < sizeof h->gap_histogram / sizeof h->gap_histogram[0]; i++)
        ml_jsonw_uint(w, h->gap_histogram[i]);
    ml_jsonw_end_array(w);
}

/* The page map as a string, one digit (enum ml_page_state) per page. */
static void put_page_map(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    char *s = malloc(h->npages + 1);

    put_hex(w, "page_map_start", h->page_map_start);
    ml_jsonw_key(w, "pages");
    if (!s) {
        ml_jsonw_null(w);
        return;
    }
    for (size_t i = 0; i < h->npages; i++)
        s[i] = (char)('0' + (h->page_map[i] <= 9 ? h->page_map[i] : 0));
    ml_jsonw_string_n(w, s, h->npages);
    free(s);
}

static void put_heap(struct island *is, const struct ml_heap_out *h)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_key(w, "heap");
    if (!h->present) {
        ml_jsonw_null(w);
        return;
    }
    ml_jsonw_begin_object(w);
    ml_jsonw_key_bool(w, "glibc_only", h->glibc_only);
    if (h->malloc_path) ml_jsonw_key_string(w, "malloc", h->malloc_path);
    put_figures(w, &h->total);
    put_heap_parts(w, h);
    put_page_map(w, h);
    ml_jsonw_key(w, "sites");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < h->nsites; i++) {
        const struct ml_heap_site *s = &h->sites[i];
        ml_jsonw_begin_array(w);
        ml_jsonw_uint(w, s->blocks);
        ml_jsonw_uint(w, s->live_bytes);
        ml_jsonw_uint(w, s->resident_bytes);
        ml_jsonw_uint(w, s->pinned_pages);
        put_stack(is, &s->stack);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
}

/* ---- island: syscalls, shm, timeline, mapping leaks ------------------------------- */

static void put_syscalls(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_key(w, "syscalls");
    if (!p->have_syscalls) {
        ml_jsonw_null(w);
        return;
    }
    ml_jsonw_begin_object(w);
    for (int i = 0; i < ML_SC_COUNT; i++)
        ml_jsonw_key_uint(w, ml_syscall_name(i), p->syscalls[i]);
    ml_jsonw_end_object(w);
}

static void put_shm(struct island *is, const struct ml_proc_report *p)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_key(w, "shm");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nshm; i++) {
        const struct ml_shm_out *s = &p->shm[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_int(w, "shmid", s->shmid);
        ml_jsonw_key_int(w, "key", s->key);
        ml_jsonw_key_uint(w, "size", s->size);
        put_hex(w, "attached", s->attached);
        ml_jsonw_key_bool(w, "detached", s->detached);
        ml_jsonw_key_bool(w, "removed", s->removed);
        ml_jsonw_key_bool(w, "leaked", s->leaked);
        ml_jsonw_key(w, "stack");
        put_stack(is, &s->stack);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

static void put_timeline(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_key(w, "timeline");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->ntimeline; i++) {
        const struct ml_timeline_point *t = &p->timeline[i];
        ml_jsonw_begin_array(w);
        ml_jsonw_double(w, t->seconds);
        ml_jsonw_uint(w, t->seq);
        ml_jsonw_uint(w, t->brk_bytes);
        ml_jsonw_uint(w, t->mmap_bytes);
        ml_jsonw_uint(w, t->memlens_bytes);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
}

/* [[seconds, growing, [[grew, rate, streak, bytes, blocks, [frame...]]...]]...] */
static void put_growth(struct island *is, const struct ml_proc_report *p)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_key(w, "growth");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->ngrowth; i++) {
        const struct ml_growth_point *g = &p->growth[i];
        ml_jsonw_begin_array(w);
        ml_jsonw_double(w, g->seconds);
        ml_jsonw_uint(w, g->growing);
        ml_jsonw_begin_array(w);
        for (size_t k = 0; k < g->nsites; k++) {
            const struct ml_growth_site *s = &g->sites[k];
            ml_jsonw_begin_array(w);
            ml_jsonw_int(w, s->grew);
            ml_jsonw_double(w, s->rate);
            ml_jsonw_uint(w, s->streak);
            ml_jsonw_uint(w, s->bytes);
            ml_jsonw_uint(w, s->blocks);
            put_stack(is, &s->stack);
            ml_jsonw_end_array(w);
        }
        ml_jsonw_end_array(w);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
}

static void put_mapping_leaks(struct island *is, const struct ml_proc_report *p)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_key(w, "mapping_leaks");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nmapping_leaks; i++) {
        const struct ml_mapping_leak *m = &p->mapping_leaks[i];
        ml_jsonw_begin_array(w);
        ml_jsonw_uint(w, m->mappings);
        ml_jsonw_uint(w, m->bytes);
        ml_jsonw_uint(w, m->resident_bytes);
        put_stack(is, &m->stack);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
}

/* --track-fds: the descriptors open at exit, with valgrind's line for each. */
static void put_fds(struct island *is, const struct ml_proc_report *p)
{
    struct ml_jsonw *w = &is->w;
    char title[4400];

    ml_jsonw_key(w, "fds");
    if (!p->have_fds) {
        ml_jsonw_null(w);
        return;
    }
    ml_jsonw_begin_object(w);
    ml_jsonw_key_uint(w, "open", p->nfds);
    ml_jsonw_key_uint(w, "std", ml_fds_std(p));
    ml_jsonw_key_bool(w, "list_std", p->fds_list_std);
    ml_jsonw_key(w, "list");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nfds; i++) {
        const struct ml_fd_out *f = &p->fds[i];
        ml_fd_title(title, sizeof title, f);
        ml_jsonw_begin_array(w);
        ml_jsonw_int(w, f->fd);
        ml_jsonw_string(w, title);
        ml_jsonw_string(w, f->kind);
        ml_jsonw_string(w, f->function);
        ml_jsonw_bool(w, f->inherited);
        ml_jsonw_bool(w, f->std);
        put_stack(is, &f->stack);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
}

/* --diff: the stacks that are new or grew; each names its record by index. */
static void put_diff(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_key(w, "diff");
    if (!p->diff.present) {
        ml_jsonw_null(w);
        return;
    }
    ml_jsonw_begin_object(w);
    ml_jsonw_key_int(w, "old_pid", p->diff.old_pid);
    ml_jsonw_key_uint(w, "gone", p->diff.gone);
    ml_jsonw_key(w, "records");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->diff.nrecords; i++) {
        const struct ml_diff_record *d = &p->diff.records[i];
        ml_jsonw_begin_array(w);
        ml_jsonw_int(w, d->status);
        ml_jsonw_int(w, d->kind);
        ml_jsonw_uint(w, d->blocks);
        ml_jsonw_uint(w, d->bytes);
        ml_jsonw_uint(w, d->old_blocks);
        ml_jsonw_uint(w, d->old_bytes);
        ml_jsonw_uint(w, d->record);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
}

static void put_process(struct island *is, const struct ml_proc_report *p)
{
    struct ml_jsonw *w = &is->w;

    ml_jsonw_begin_object(w);
    ml_jsonw_key_int(w, "pid", p->pid);
    ml_jsonw_key_int(w, "ppid", p->ppid);
    ml_jsonw_key_string(w, "exe", p->exe);
    put_strv(w, "argv", p->argv);
    put_exit(w, p);
    ml_jsonw_key_double(w, "duration", p->duration);
    ml_jsonw_key_bool(w, "scanned", p->scanned);
    ml_jsonw_key_uint(w, "unread_bytes", p->unread_bytes);
    ml_jsonw_key_uint(w, "uncopied_bytes", p->uncopied_bytes);
    ml_jsonw_key_bool(w, "saw_shim", p->saw_shim);
    put_alloc(w, &p->alloc);
    put_summary(w, p);
    put_records(is, p);
    put_regions(is, p);
    put_heap(is, &p->heap);
    put_syscalls(w, p);
    put_shm(is, p);
    put_timeline(w, p);
    put_mapping_leaks(is, p);
    put_fds(is, p);
    put_diff(w, p);
    put_growth(is, p);
    ml_jsonw_end_object(w);
}

/* The kinds --show-leak-kinds lists, and the allocation wrappers "Allocated
 * at" looks past (the known ones, then --alloc-fn's). */
static void put_options(struct ml_jsonw *w, const struct ml_render_opts *o)
{
    ml_jsonw_key(w, "show_kinds");
    ml_jsonw_begin_array(w);
    for (int k = ML_LK_COUNT - 1; k >= 0; k--)
        if (!o || (o->show_kinds & (1u << k)))
            ml_jsonw_string(w, ml_leak_kind_key((enum ml_leak_kind)k));
    ml_jsonw_end_array(w);
    ml_jsonw_key(w, "alloc_fns");
    ml_jsonw_begin_array(w);
    for (const char *const *f = ml_known_alloc_fns; *f; f++)
        ml_jsonw_string(w, *f);
    for (int i = 0; o && o->alloc_fns && i < o->nalloc_fns; i++)
        ml_jsonw_string(w, o->alloc_fns[i]);
    ml_jsonw_end_array(w);
}

/* The whole island; 0, or -1 with errno set. */
static int put_island(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    struct island is = {0};

    ml_jsonw_init(&is.w, out, 0);
    ml_jsonw_begin_object(&is.w);
    ml_jsonw_key_string(&is.w, "tool", "memlens");
    ml_jsonw_key_string(&is.w, "version", o ? o->tool_version : NULL);
    ml_jsonw_key_string(&is.w, "mode", r->mode);
    put_strv(&is.w, "command", r->command);
    put_options(&is.w, o);
    ml_jsonw_key_string(&is.w, "diff_against", r->diff_against);
    ml_jsonw_key(&is.w, "processes");
    ml_jsonw_begin_array(&is.w);
    for (size_t i = 0; i < r->nprocs; i++)
        put_process(&is, &r->procs[i]);
    ml_jsonw_end_array(&is.w);
    write_tables(&is.w, &is.t);
    ml_jsonw_end_object(&is.w);
    int rc = ml_jsonw_finish(&is.w);
    int oom = is.t.oom;
    tables_free(&is.t);
    if (rc == 0 && oom) {
        errno = ENOMEM;
        rc = -1;
    }
    return rc;
}

/* ---- page --------------------------------------------------------------------------- */

/* s with &, <, >, " and ' as entities, control characters as '?'. */
static void put_escaped(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
        }
    }
}

/* A fresh nonce for the page's one script (hex, 32 characters). */
static void make_nonce(char out[33])
{
    unsigned char b[16];
    uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)out;

    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            b[i] = (unsigned char)(x >> 56);
        }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void put_head(FILE *out, const struct ml_report *r, const char *nonce)
{
    const char *prog = r->command && r->command[0] ? r->command[0] : "";
    const char *slash = strrchr(prog, '/');

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"memlens\">\n", out);
    fprintf(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "script-src 'nonce-%s'; style-src 'unsafe-inline'; img-src data:\">\n", nonce);
    fputs("<title>memlens report: ", out);
    put_escaped(out, slash ? slash + 1 : prog);
    fputs("</title>\n<style>\n", out);
    fputs(html_css, out);
    fputs("</style>\n</head>\n<body>\n"
          "<noscript><p class=\"noscript\">This report is drawn by the script inside this file: "
          "allow JavaScript for it, or read the JSON report (memlens --json).</p></noscript>\n"
          "<div id=\"app\"></div>\n", out);
}

int ml_render_html(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    char nonce[33];

    if (!out || !r) {
        errno = EINVAL;
        return -1;
    }
    make_nonce(nonce);
    put_head(out, r, nonce);
    fputs("<script type=\"application/json\" id=\"memlens-data\">", out);
    if (put_island(out, r, o) != 0)
        return -1;
    fprintf(out, "</script>\n<script nonce=\"%s\">\n", nonce);
    fputs(html_js, out);
    fputs("</script>\n</body>\n</html>\n", out);
    return ml_render_flushed(out);
}
