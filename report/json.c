/* json.c - the schema-1 JSON document of a report (see DESIGN.md).
 *
 * Writes, through jsonw, the keys that the model (model.h) carries, one
 * function per section.  The JSON is complete: every record of every kind,
 * suppressed ones included, whatever --show-leak-kinds says.  Owns nothing.
 * It is written compactly (no indentation), holds the options that shaped
 * it and each frame's linkage name, so that --load (jsonload.c) rebuilds
 * the model from it and every renderer works again.  docs/json.md documents
 * every key.  Write errors stick in the writer and are returned once, at the end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sigabbrev_np */
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "frag.h"
#include "reach.h"
#include "jsonw.h"
#include "openfds.h"
#include "render.h"
#include "regions.h"
#include "signame.h"
#include "stacktab.h"

#define ML_JSON_SCHEMA 1

static void write_strv(struct ml_jsonw *w, const char *key, char *const *v)
{
    ml_jsonw_key(w, key);
    ml_jsonw_begin_array(w);
    for (; v && *v; v++)
        ml_jsonw_string(w, *v);
    ml_jsonw_end_array(w);
}

static void write_kinds(struct ml_jsonw *w, const char *key, unsigned kinds)
{
    ml_jsonw_key(w, key);
    ml_jsonw_begin_array(w);
    for (int k = ML_LK_COUNT - 1; k >= 0; k--)
        if (kinds & (1u << k)) ml_jsonw_string(w, ml_leak_kind_key((enum ml_leak_kind)k));
    ml_jsonw_end_array(w);
}

static void write_options(struct ml_jsonw *w, const struct ml_report_options *o)
{
    static const char *const leak_check[] = {"no", "summary", "full"};
    ml_jsonw_key(w, "options");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "leak_check", (unsigned)o->leak_check < 3 ? leak_check[o->leak_check] : NULL);
    write_kinds(w, "show_leak_kinds", o->show_kinds);
    write_kinds(w, "errors_for_leak_kinds", o->error_kinds);
    ml_jsonw_key(w, "leak_check_heuristics");
    ml_jsonw_begin_array(w);
    for (unsigned bit = 1; bit && bit <= ML_HEUR_ALL; bit <<= 1)
        if ((o->heuristics & bit) && ml_heuristic_name(bit)) ml_jsonw_string(w, ml_heuristic_name(bit));
    ml_jsonw_end_array(w);
    ml_jsonw_key_int(w, "error_exitcode", o->error_exitcode);
    ml_jsonw_key_int(w, "num_callers", o->num_callers);
    write_strv(w, "suppressions", o->suppressions);
    ml_jsonw_key_bool(w, "default_suppressions", o->default_suppressions);
    ml_jsonw_key_bool(w, "show_below_main", o->show_below_main);
    ml_jsonw_key_bool(w, "demangle", o->demangle);
    ml_jsonw_key_bool(w, "trace_children", o->trace_children);
    write_strv(w, "alloc_fns", o->alloc_fns);
    ml_jsonw_end_object(w);
}

static void write_header(struct ml_jsonw *w, const struct ml_report *r,
                         const struct ml_render_opts *o)
{
    ml_jsonw_key_string(w, "tool", "memlens");
    ml_jsonw_key_string(w, "version", o ? o->tool_version : NULL);
    ml_jsonw_key_int(w, "schema", ML_JSON_SCHEMA);
    ml_jsonw_key_string(w, "mode", r->mode);
    write_strv(w, "command", r->command);
    write_options(w, &r->options);
    if (r->diff_against) ml_jsonw_key_string(w, "diff_against", r->diff_against);
}

/* {"code": N} | {"signal": "SIGSEGV"} | {"detached": true}; null when unknown. */
static void write_exit(struct ml_jsonw *w, const struct ml_proc_report *p)
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
    else if (p->exit_how == ML_EXIT_SIGNAL)
        ml_jsonw_key_string(w, "signal",
                            ml_signal_name(p->exit_value, name, sizeof name));
    else
        ml_jsonw_key_bool(w, "detached", 1);
    ml_jsonw_end_object(w);
}

static void write_allocations(struct ml_jsonw *w, const struct ml_alloc_stats *a)
{
    ml_jsonw_key(w, "allocations");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_uint(w, "calls", a->calls);
    ml_jsonw_key_uint(w, "bytes", a->bytes);
    ml_jsonw_key_uint(w, "peak_live_bytes", a->peak_live_bytes);
    ml_jsonw_key_uint(w, "live_blocks", a->live_blocks);
    ml_jsonw_key_uint(w, "live_bytes", a->live_bytes);
    ml_jsonw_key_uint(w, "frees", a->frees);
    ml_jsonw_key_uint(w, "unknown_frees", a->unknown_frees);
    ml_jsonw_end_object(w);
}

/* ---- leaks --------------------------------------------------------------- */

static void write_frame(struct ml_jsonw *w, const struct ml_frame_out *f)
{
    ml_jsonw_begin_object(w);
    ml_jsonw_key(w, "address");
    ml_jsonw_stringf(w, "0x%" PRIx64, f->address);
    ml_jsonw_key_string(w, "function", f->function);
    ml_jsonw_key_string(w, "file", f->file);
    ml_jsonw_key(w, "line");
    if (f->line > 0)
        ml_jsonw_int(w, f->line);
    else
        ml_jsonw_null(w);
    ml_jsonw_key_string(w, "module", f->module);
    ml_jsonw_key_bool(w, "inlined", f->inlined);
    ml_jsonw_key_string(w, "linkage_name", f->mangled);
    if (f->aliases[0]) {                  /* other names suppressions may use */
        ml_jsonw_key(w, "aliases");
        ml_jsonw_begin_array(w);
        for (size_t i = 0; i < 2 && f->aliases[i]; i++) ml_jsonw_string(w, f->aliases[i]);
        ml_jsonw_end_array(w);
    }
    ml_jsonw_end_object(w);
}

static void write_stack(struct ml_jsonw *w, const struct ml_stack_out *st)
{
    ml_jsonw_key(w, "stack");
    ml_jsonw_begin_array(w);
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes; i++)
        write_frame(w, ml_stack_node(st->tab, node, &node));
    ml_jsonw_end_array(w);
}

static void write_totals(struct ml_jsonw *w, const char *key, const struct ml_totals *t)
{
    ml_jsonw_key(w, key);
    ml_jsonw_begin_object(w);
    ml_jsonw_key_uint(w, "blocks", t->blocks);
    ml_jsonw_key_uint(w, "bytes", t->bytes);
    ml_jsonw_end_object(w);
}

/* Of a still reachable record, the blocks that only an interior pointer a
 * heuristic accepts reaches, per heuristic; left out when there are none. */
static void write_via_heuristic(struct ml_jsonw *w, const struct ml_leak_record *rec)
{
    int any = 0;
    for (int h = 0; h < ML_HEUR_COUNT; h++) any |= rec->via_heuristic[h].blocks > 0;
    if (!any) return;
    ml_jsonw_key(w, "reachable_via_heuristic");
    ml_jsonw_begin_object(w);
    for (int h = 0; h < ML_HEUR_COUNT; h++)
        if (rec->via_heuristic[h].blocks) write_totals(w, ml_heuristic_name(1u << h), &rec->via_heuristic[h]);
    ml_jsonw_end_object(w);
}

static void write_record(struct ml_jsonw *w, const struct ml_leak_record *rec)
{
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "kind", ml_leak_kind_key(rec->kind));
    ml_jsonw_key_uint(w, "blocks", rec->blocks);
    ml_jsonw_key_uint(w, "bytes", rec->bytes);
    ml_jsonw_key_uint(w, "indirect_bytes", rec->indirect_bytes);
    ml_jsonw_key_uint(w, "resident_bytes", rec->resident_bytes);
    ml_jsonw_key_bool(w, "suppressed", rec->suppressed);
    ml_jsonw_key_string(w, "suppression", rec->suppressed ? rec->suppression : NULL);
    if (rec->suppressed && rec->suppression_file) {
        ml_jsonw_key_string(w, "suppression_file", rec->suppression_file);
        ml_jsonw_key_int(w, "suppression_line", rec->suppression_line);
    }
    write_stack(w, &rec->stack);
    ml_jsonw_key_uint(w, "swapped_bytes", rec->swapped_bytes);
    if (rec->has_age) {
        ml_jsonw_key(w, "age_seconds");
        ml_jsonw_begin_object(w);
        ml_jsonw_key_double(w, "oldest", rec->age_oldest);
        ml_jsonw_key_double(w, "newest", rec->age_newest);
        ml_jsonw_end_object(w);
    }
    write_via_heuristic(w, rec);
    ml_jsonw_end_object(w);
}


/* Most severe kind first, as DESIGN.md lists them, then the suppressed. */
static void write_summary(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_key(w, "summary");
    ml_jsonw_begin_object(w);
    for (int k = ML_LK_COUNT - 1; k >= 0; k--)
        write_totals(w, ml_leak_kind_key((enum ml_leak_kind)k), &p->summary[k]);
    write_totals(w, "suppressed", &p->summary[ML_LK_SUPPRESSED]);
    ml_jsonw_end_object(w);
}

static void write_leaks(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_key(w, "leaks");
    ml_jsonw_begin_object(w);
    write_summary(w, p);
    ml_jsonw_key(w, "records");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nrecords; i++)
        write_record(w, &p->records[i]);
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
}

/* ---- sections the model does not carry yet --------------------------------
 * "heap" (fragmentation, residency, sites), "regions" (the memory map),
 * "syscalls" (counts) and "shm" (SysV segments) of DESIGN.md.  Each gets its
 * writer here once model.h holds its data; until then nothing is written,
 * rather than zeros that would read as measurements. */

/* ---- heap: fragmentation, residency and culprits ---------------------------- */

static void write_figures(struct ml_jsonw *w, const struct ml_heap_figures *f)
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

static void write_heap_parts(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    ml_jsonw_key(w, "parts");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < h->nparts; i++) {
        ml_jsonw_begin_object(w);
        ml_jsonw_key_string(w, "kind", ml_heap_kind_key(h->parts[i].kind));
        ml_jsonw_key(w, "start");
        ml_jsonw_stringf(w, "0x%" PRIx64, h->parts[i].start);
        ml_jsonw_key(w, "end");
        ml_jsonw_stringf(w, "0x%" PRIx64, h->parts[i].end);
        write_figures(w, &h->parts[i].fig);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

static void write_heap_sites(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    ml_jsonw_key(w, "sites");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < h->nsites; i++) {
        ml_jsonw_begin_object(w);
        ml_jsonw_key_uint(w, "blocks", h->sites[i].blocks);
        ml_jsonw_key_uint(w, "live_bytes", h->sites[i].live_bytes);
        ml_jsonw_key_uint(w, "resident_bytes", h->sites[i].resident_bytes);
        ml_jsonw_key_uint(w, "pinned_pages", h->sites[i].pinned_pages);
        write_stack(w, &h->sites[i].stack);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

/* Non-empty buckets only: {"min_bytes": 2^(i+4), "max_bytes": 2^(i+5) - 1, "gaps": n}. */
static void write_gap_histogram(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    size_t nb = sizeof h->gap_histogram / sizeof h->gap_histogram[0];
    ml_jsonw_key(w, "gap_histogram");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < nb; i++) {
        if (!h->gap_histogram[i]) continue;
        ml_jsonw_begin_object(w);
        ml_jsonw_key_uint(w, "min_bytes", i == 0 ? 0 : 16ull << i);
        ml_jsonw_key(w, "max_bytes");
        if (i + 1 < nb) ml_jsonw_uint(w, (32ull << i) - 1);
        else ml_jsonw_null(w);
        ml_jsonw_key_uint(w, "gaps", h->gap_histogram[i]);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

/* The main heap's pages, one character each: L live, F free and resident,
 * . free and not resident (released, swapped out or never touched). */
static void write_page_map(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    static const char glyph[] = {'?', 'L', 'F', '.'};
    char *s = malloc(h->npages + 1);
    ml_jsonw_key(w, "page_map_start");
    ml_jsonw_stringf(w, "0x%" PRIx64, h->page_map_start);
    ml_jsonw_key_uint(w, "page_size", ML_PAGE_SIZE);
    ml_jsonw_key(w, "page_map");
    if (!s) {
        ml_jsonw_null(w);
        return;
    }
    for (size_t i = 0; i < h->npages; i++)
        s[i] = h->page_map[i] < sizeof glyph ? glyph[h->page_map[i]] : '?';
    ml_jsonw_string_n(w, s, h->npages);
    free(s);
}

/* Whose malloc the program calls, and whether the figures cover it. */
static void write_malloc(struct ml_jsonw *w, const struct ml_heap_out *h)
{
    if (h->malloc_path) ml_jsonw_key_string(w, "malloc", h->malloc_path);
    else {
        ml_jsonw_key(w, "malloc");
        ml_jsonw_null(w);
    }
    ml_jsonw_key_bool(w, "glibc_only", h->glibc_only);
}

/* DESIGN's heap object (totals of every part), then parts, histogram, strip. */
static void write_heap(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    const struct ml_heap_out *h = &p->heap;
    ml_jsonw_key(w, "heap");
    if (!h->present) {
        ml_jsonw_null(w);
        return;
    }
    ml_jsonw_begin_object(w);
    write_malloc(w, h);
    write_figures(w, &h->total);
    write_heap_sites(w, h);
    write_heap_parts(w, h);
    write_gap_histogram(w, h);
    write_page_map(w, h);
    ml_jsonw_end_object(w);
}

static void key_hex(struct ml_jsonw *w, const char *key, uint64_t v)
{
    ml_jsonw_key(w, key);
    ml_jsonw_stringf(w, "0x%" PRIx64, v);
}

static void write_region(struct ml_jsonw *w, const struct ml_region_out *r)
{
    ml_jsonw_begin_object(w);
    key_hex(w, "start", r->start);
    key_hex(w, "end", r->end);
    ml_jsonw_key_string(w, "perms", r->perms);
    ml_jsonw_key_string(w, "kind", ml_region_kind_name((enum ml_region_kind)r->kind));
    ml_jsonw_key_string(w, "path", r->path);
    ml_jsonw_key_uint(w, "offset", r->offset);
    if (r->build_id) ml_jsonw_key_string(w, "build_id", r->build_id);
    ml_jsonw_key_uint(w, "size", r->size);
    ml_jsonw_key_uint(w, "resident", r->resident);
    ml_jsonw_key_uint(w, "swapped", r->swapped);
    ml_jsonw_key_uint(w, "untouched", r->untouched);
    ml_jsonw_key_string(w, "origin", r->origin);
    ml_jsonw_key_string(w, "owner", r->memlens ? "memlens" : "program");
    if (r->origin) ml_jsonw_key_uint(w, "origin_seq", r->origin_seq);
    if (r->stack.nframes) write_stack(w, &r->stack);
    ml_jsonw_end_object(w);
}

static void write_regions(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    if (!p->nregions) return;
    ml_jsonw_key(w, "regions");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nregions; i++) write_region(w, &p->regions[i]);
    ml_jsonw_end_array(w);
    ml_jsonw_key(w, "memlens_regions");          /* the session: not the program's */
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nown_maps; i++) {
        ml_jsonw_begin_object(w);
        key_hex(w, "start", p->own_maps[i].start);
        key_hex(w, "end", p->own_maps[i].end);
        ml_jsonw_key_uint(w, "size", p->own_maps[i].end - p->own_maps[i].start);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

static void write_syscalls(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    if (!p->have_syscalls) return;
    ml_jsonw_key(w, "syscalls");
    ml_jsonw_begin_object(w);
    for (int i = 0; i < ML_SC_COUNT; i++) ml_jsonw_key_uint(w, ml_syscall_name(i), p->syscalls[i]);
    ml_jsonw_end_object(w);
    ml_jsonw_key(w, "timeline");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->ntimeline; i++) {
        const struct ml_timeline_point *t = &p->timeline[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_double(w, "seconds", t->seconds);
        ml_jsonw_key_uint(w, "seq", t->seq);
        ml_jsonw_key_uint(w, "brk_bytes", t->brk_bytes);
        ml_jsonw_key_uint(w, "mmap_bytes", t->mmap_bytes);
        ml_jsonw_key_uint(w, "memlens_bytes", t->memlens_bytes);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

/* memlens -p --interval: each sample's sites whose unfreed bytes grew. */
static void write_growth(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    if (!p->ngrowth) return;
    ml_jsonw_key(w, "growth");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->ngrowth; i++) {
        const struct ml_growth_point *g = &p->growth[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_double(w, "seconds", g->seconds);
        ml_jsonw_key_uint(w, "growing_sites", g->growing);
        ml_jsonw_key(w, "sites");
        ml_jsonw_begin_array(w);
        for (size_t k = 0; k < g->nsites; k++) {
            const struct ml_growth_site *s = &g->sites[k];
            ml_jsonw_begin_object(w);
            ml_jsonw_key_int(w, "grew_bytes", s->grew);
            ml_jsonw_key_double(w, "bytes_per_second", s->rate);
            ml_jsonw_key_uint(w, "intervals_in_a_row", s->streak);
            ml_jsonw_key_uint(w, "bytes", s->bytes);
            ml_jsonw_key_uint(w, "blocks", s->blocks);
            write_stack(w, &s->stack);
            ml_jsonw_end_object(w);
        }
        ml_jsonw_end_array(w);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

static void write_shm_entry(struct ml_jsonw *w, const struct ml_shm_out *s)
{
    ml_jsonw_begin_object(w);
    if (s->path) {
        ml_jsonw_key_string(w, "kind", "posix");
        ml_jsonw_key_string(w, "path", s->path);
    } else {
        ml_jsonw_key_string(w, "kind", "sysv");
        ml_jsonw_key_int(w, "shmid", s->shmid);
        ml_jsonw_key_int(w, "key", s->key);
        ml_jsonw_key_uint(w, "size", s->size);
        ml_jsonw_key(w, "attached");
        if (s->attached) ml_jsonw_stringf(w, "0x%" PRIx64, s->attached);
        else ml_jsonw_null(w);
        ml_jsonw_key_bool(w, "detached", s->detached);
    }
    ml_jsonw_key_bool(w, "removed", s->removed);
    ml_jsonw_key_bool(w, "leaked", s->leaked);
    if (s->stack.nframes) write_stack(w, &s->stack);
    ml_jsonw_end_object(w);
}

static void write_shm(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    if (!p->have_syscalls) return;
    ml_jsonw_key(w, "shm");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nshm; i++) write_shm_entry(w, &p->shm[i]);
    ml_jsonw_end_array(w);
    ml_jsonw_key(w, "mapping_leaks");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nmapping_leaks; i++) {
        const struct ml_mapping_leak *l = &p->mapping_leaks[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_uint(w, "mappings", l->mappings);
        ml_jsonw_key_uint(w, "bytes", l->bytes);
        ml_jsonw_key_uint(w, "resident_bytes", l->resident_bytes);
        write_stack(w, &l->stack);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

/* --track-fds: every descriptor open at exit, the standard ones included
 * (marked "std"), so that the text can be rendered again from the JSON. */
static void write_fds(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    if (!p->have_fds) return;
    ml_jsonw_key(w, "fds");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_uint(w, "open", p->nfds);
    ml_jsonw_key_uint(w, "std", ml_fds_std(p));
    ml_jsonw_key_bool(w, "list_std", p->fds_list_std);
    ml_jsonw_key(w, "descriptors");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->nfds; i++) {
        const struct ml_fd_out *f = &p->fds[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_int(w, "fd", f->fd);
        ml_jsonw_key_string(w, "kind", f->kind);
        ml_jsonw_key_string(w, "path", f->path);
        if (f->family) ml_jsonw_key_string(w, "family", f->family);
        if (f->address) ml_jsonw_key_string(w, "address", f->address);
        ml_jsonw_key_string(w, "function", f->function);
        ml_jsonw_key_bool(w, "inherited", f->inherited);
        ml_jsonw_key_bool(w, "std", f->std);
        if (f->have_info) {
            ml_jsonw_key_string(w, "access", f->access);
            ml_jsonw_key_bool(w, "cloexec", f->cloexec);
            ml_jsonw_key_uint(w, "pos", f->pos);
        }
        write_stack(w, &f->stack);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
}

/* ---- --diff: what is new and what grew since OLD ----------------------------- */

static void write_diff(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    static const char *const status[] = {[ML_DIFF_NEW] = "new", [ML_DIFF_GREW] = "grew"};
    if (!p->diff.present) return;
    ml_jsonw_key(w, "diff");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_int(w, "old_pid", p->diff.old_pid);
    ml_jsonw_key_uint(w, "gone", p->diff.gone);
    ml_jsonw_key(w, "records");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < p->diff.nrecords; i++) {
        const struct ml_diff_record *d = &p->diff.records[i];
        ml_jsonw_begin_object(w);
        ml_jsonw_key_string(w, "status", status[d->status]);
        ml_jsonw_key_string(w, "kind", ml_leak_kind_key(d->kind));
        ml_jsonw_key_uint(w, "blocks", d->blocks);
        ml_jsonw_key_uint(w, "bytes", d->bytes);
        ml_jsonw_key_uint(w, "old_blocks", d->old_blocks);
        ml_jsonw_key_uint(w, "old_bytes", d->old_bytes);
        ml_jsonw_key_int(w, "blocks_grown", (int64_t)(d->blocks - d->old_blocks));
        ml_jsonw_key_int(w, "bytes_grown", (int64_t)(d->bytes - d->old_bytes));
        write_stack(w, &p->records[d->record].stack);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
}

/* ---- document -------------------------------------------------------------- */

static void write_process(struct ml_jsonw *w, const struct ml_proc_report *p)
{
    ml_jsonw_begin_object(w);
    ml_jsonw_key_int(w, "pid", p->pid);
    ml_jsonw_key_int(w, "ppid", p->ppid);
    ml_jsonw_key_string(w, "exe", p->exe);
    write_strv(w, "argv", p->argv);
    write_exit(w, p);
    ml_jsonw_key_double(w, "duration", p->duration);
    ml_jsonw_key_bool(w, "scanned", p->scanned);
    ml_jsonw_key_uint(w, "unread_bytes", p->unread_bytes);
    ml_jsonw_key_uint(w, "uncopied_bytes", p->uncopied_bytes);
    ml_jsonw_key_bool(w, "saw_shim", p->saw_shim);
    if (p->not_recorded) ml_jsonw_key_string(w, "not_recorded", p->not_recorded);
    ml_jsonw_key_uint(w, "lost_events", p->lost_events);
    ml_jsonw_key_bool(w, "stacks_full", p->stacks_full);
    write_allocations(w, &p->alloc);
    write_leaks(w, p);
    write_heap(w, p);
    write_regions(w, p);
    write_syscalls(w, p);
    write_growth(w, p);
    write_shm(w, p);
    write_fds(w, p);
    write_diff(w, p);
    ml_jsonw_end_object(w);
}

int ml_render_json(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    struct ml_jsonw w;

    if (!out || !r) {
        errno = EINVAL;
        return -1;
    }
    ml_jsonw_init(&w, out, 0);
    ml_jsonw_begin_object(&w);
    write_header(&w, r, o);
    ml_jsonw_key(&w, "processes");
    ml_jsonw_begin_array(&w);
    for (size_t i = 0; i < r->nprocs; i++)
        write_process(&w, &r->procs[i]);
    ml_jsonw_end_array(&w);
    ml_jsonw_end_object(&w);
    if (ml_jsonw_finish(&w) < 0)
        return -1;
    return fflush(out) == 0 ? 0 : -1;
}
