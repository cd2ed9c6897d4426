/* text.c - the memcheck-like text report.
 *
 * Per process, lines prefixed "==PID== " as valgrind's: a header, the heap
 * summary, the loss records that the options ask to show (with their
 * suppression entries on request) and the leak summary, in memcheck's words
 * and layout so that valgrind users and their scripts read it unchanged.
 * Owns nothing; only the stream's error state is reported.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sigabbrev_np */
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include "frag.h"
#include "reach.h"
#include "openfds.h"
#include "render.h"
#include "signame.h"
#include "snapshot.h"
#include "stacktab.h"
#include "suppress.h"

struct tout {
    FILE *out;
    int pid;
    const struct ml_render_opts *o;
};

struct num { char s[32]; };

static struct ml_num commas(uint64_t v)
{
    return ml_thousands(v);
}

static void prefix(const struct tout *t)
{
    fprintf(t->out, "==%d== ", t->pid);
}

static void __attribute__((format(printf, 2, 3)))
line(const struct tout *t, const char *fmt, ...)
{
    va_list ap;

    prefix(t);
    va_start(ap, fmt);
    vfprintf(t->out, fmt, ap);
    va_end(ap);
    fputc('\n', t->out);
}

static void blank(const struct tout *t)
{
    prefix(t);
    fputc('\n', t->out);
}

/* A line of -v detail, as valgrind prefixes them: "--PID-- ". */
static void __attribute__((format(printf, 2, 3)))
detail(const struct tout *t, const char *fmt, ...)
{
    va_list ap;

    fprintf(t->out, "--%d-- ", t->pid);
    va_start(ap, fmt);
    vfprintf(t->out, fmt, ap);
    va_end(ap);
    fputc('\n', t->out);
}

/* Writes s with control characters shown as '?', so that a name can never
 * break the line structure of the report. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* An argument of the Command: line as valgrind writes it: a space or a
 * backslash escaped with a backslash, so that the words can be told apart. */
static void put_arg(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '\\')
            fputc('\\', out);
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- header and heap summary -------------------------------------------- */

/* valgrind's preamble: the tool, the version, the command, and, when the
 * text goes to a file, the parent's pid. */
static void put_header(const struct tout *t, char *const *argv, int ppid)
{
    const char *version = t->o->tool_version;

    line(t, "memlens, a memory leak and fragmentation detector");
    line(t, "Using memlens%s%s; rerun with -h for help", version ? "-" : "", version ? version : "");
    prefix(t);
    fputs("Command:", t->out);
    for (; argv && *argv; argv++) {
        fputc(' ', t->out);
        put_arg(t->out, *argv);
    }
    fputc('\n', t->out);
    if (t->o->parent_pid_line && ppid > 0)
        line(t, "Parent PID: %d", ppid);
    blank(t);
}

static void put_exit(const struct tout *t, const struct ml_proc_report *p)
{
    char name[32];

    if (t->o->quiet)
        return;
    if (p->exit_how == ML_EXIT_SIGNAL) {
        line(t, "Process terminating with default action of signal %d (%s)",
             p->exit_value, ml_signal_name(p->exit_value, name, sizeof name));
        blank(t);
    } else if (p->exit_how == ML_EXIT_DETACHED) {
        line(t, "Detached: the process keeps running; blocks it allocated "
                "before the attach are not counted.");
        blank(t);
    }
}

static void put_heap_summary(const struct tout *t, const struct ml_proc_report *p)
{
    const struct ml_alloc_stats *a = &p->alloc;

    line(t, "HEAP SUMMARY:");
    line(t, "%s: %s bytes in %s blocks",
         p->exit_how == ML_EXIT_DETACHED ? "  in use at detach" : "    in use at exit",
         commas(a->live_bytes).s, commas(a->live_blocks).s);
    line(t, "  total heap usage: %s allocs, %s frees, %s bytes allocated",
         commas(a->calls).s, commas(a->frees).s, commas(a->bytes).s);
    blank(t);
}

/* ---- loss records ----------------------------------------------------------- */

/* "   at 0xADDR: fn (file.c:12)", or "(in /module)" when the file is unknown. */
static void put_frame(const struct tout *t, const struct ml_frame_out *f, int first)
{
    prefix(t);
    fprintf(t->out, "   %s 0x%" PRIX64 ": ", first ? "at" : "by", f->address);
    put_clean(t->out, f->function ? f->function : "???");
    if (f->file) {
        fputs(" (", t->out);
        put_clean(t->out, base_name(f->file));
        if (f->line > 0)
            fprintf(t->out, ":%d", f->line);
        fputc(')', t->out);
    } else if (f->module) {
        fputs(" (in ", t->out);
        put_clean(t->out, f->module);
        fputc(')', t->out);
    }
    fputc('\n', t->out);
}

/* The first max frames of st (all when it has fewer). */
static void put_first_frames(const struct tout *t, const struct ml_stack_out *st, size_t max)
{
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes && i < max; i++)
        put_frame(t, ml_stack_node(st->tab, node, &node), i == 0);
}

static void put_stack_frames(const struct tout *t, const struct ml_stack_out *st)
{
    put_first_frames(t, st, st->nframes);
}

/* --track-fds: the descriptors open at exit, in valgrind's words. */
static void put_fd(const struct tout *t, const struct ml_fd_out *f)
{
    char title[4400];

    ml_fd_title(title, sizeof title, f);
    prefix(t);
    put_clean(t->out, title);
    fputc('\n', t->out);
    if (f->inherited)
        line(t, "   <inherited from parent>");
    else if (!f->function)
        line(t, "   <opened by a call memlens does not see>");
    put_stack_frames(t, &f->stack);
    blank(t);
}

static void put_fds(const struct tout *t, const struct ml_proc_report *p)
{
    if (!p->have_fds)
        return;
    size_t nstd = ml_fds_std(p);
    line(t, "FILE DESCRIPTORS: %zu open (%zu std) at exit.", p->nfds, nstd);
    for (size_t i = 0; i < p->nfds; i++)
        if (ml_fd_listed(p, &p->fds[i]))
            put_fd(t, &p->fds[i]);
    blank(t);
}


/* A valgrind suppression matching the record, unprefixed so that it can be
 * pasted into a --suppressions file that valgrind reads too: C++ functions
 * by their mangled names, and, as valgrind, no frame below main. */
static void put_suppression(const struct tout *t, const struct ml_leak_record *rec)
{
    fprintf(t->out, "{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n"
                    "   match-leak-kinds: %s\n", ml_leak_kind_key(rec->kind));
    uint32_t node = rec->stack.top;
    for (size_t i = 0, n = ml_suppression_frames(&rec->stack); i < n; i++) {
        int is_fun;
        const char *name = ml_suppression_frame(ml_stack_node(rec->stack.tab, node, &node), &is_fun);
        fputs(is_fun ? "   fun:" : "   obj:", t->out);
        put_clean(t->out, name);
        fputc('\n', t->out);
    }
    fputs("}\n", t->out);
}

static void put_record(const struct tout *t, const struct ml_leak_record *rec,
                       size_t index, size_t count)
{
    char title[192];

    ml_loss_record_title(title, sizeof title, rec, index, count);
    line(t, "%s", title);
    if (rec->has_age)
        line(t, "   allocated %.1f to %.1f seconds before the end of the recording",
             rec->age_oldest, rec->age_newest);
    put_stack_frames(t, &rec->stack);
    if (rec->stack.nframes == 0)
        line(t, "   (no allocation stack was recorded)");
    blank(t);
    if (t->o->gen_suppressions)
        put_suppression(t, rec);
}

/* Loss records are numbered among all records, shown or not, as memcheck does. */
static void put_records(const struct tout *t, const struct ml_proc_report *p)
{
    for (size_t i = 0; i < p->nrecords; i++) {
        const struct ml_leak_record *rec = &p->records[i];
        if (!rec->suppressed && (unsigned)rec->kind < ML_LK_COUNT &&
            (t->o->show_kinds & (1u << rec->kind)))
            put_record(t, rec, i + 1, p->nrecords);
    }
}

/* ---- leak summary ------------------------------------------------------------ */

static void put_totals(const struct tout *t, const char *label, const struct ml_totals *n)
{
    line(t, "%18s: %s bytes in %s blocks", label, commas(n->bytes).s, commas(n->blocks).s);
}

/* memcheck's "of which reachable via heuristic:" lines under still
 * reachable: the unsuppressed reachable blocks only a heuristic reached. */
static void put_via_heuristics(const struct tout *t, const struct ml_proc_report *p)
{
    struct ml_totals via[ML_HEUR_COUNT] = {{0, 0}};
    int any = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        for (int h = 0; h < ML_HEUR_COUNT && !p->records[i].suppressed; h++) {
            via[h].blocks += p->records[i].via_heuristic[h].blocks;
            via[h].bytes += p->records[i].via_heuristic[h].bytes;
            any |= via[h].blocks > 0;
        }
    if (!any)
        return;
    line(t, "%22s%s", "", "of which reachable via heuristic:");
    for (int h = 0; h < ML_HEUR_COUNT; h++)
        if (via[h].blocks)
            line(t, "%24s%-19s: %s bytes in %s blocks", "", ml_heuristic_name(1u << h),
                 commas(via[h].bytes).s, commas(via[h].blocks).s);
}

static void put_leak_summary(const struct tout *t, const struct ml_proc_report *p)
{
    line(t, "LEAK SUMMARY:");
    for (int k = ML_LK_COUNT - 1; k >= 0; k--)
        put_totals(t, ml_leak_kind_text((enum ml_leak_kind)k), &p->summary[k]);
    put_via_heuristics(t, p);
    put_totals(t, "suppressed", &p->summary[ML_LK_SUPPRESSED]);
    if (t->o->leak_check != ML_LEAK_CHECK_FULL)
        line(t, "Rerun with --leak-check=full to see details of leaked memory");
    else if (p->summary[ML_LK_REACHABLE].blocks > 0 &&
             !(t->o->show_kinds & (1u << ML_LK_REACHABLE))) {
        line(t, "Reachable blocks (those to which a pointer was found) are not shown.");
        line(t, "To see them, rerun with: --leak-check=full --show-leak-kinds=all");
    }
    blank(t);
}

/* Memory that could not be read: the live blocks are counted, never classified. */
static void put_not_scanned(const struct tout *t, const struct ml_proc_report *p)
{
    struct ml_totals live = { p->alloc.live_blocks, p->alloc.live_bytes };

    line(t, "The memory of the process could not be read at exit, so the leak kinds");
    line(t, "of its live blocks are unknown: they are counted as not scanned.");
    blank(t);
    line(t, "LEAK SUMMARY:");
    put_totals(t, "not scanned", &live);
    blank(t);
}

static int nothing_live(const struct ml_proc_report *p)
{
    uint64_t blocks = p->alloc.live_blocks;
    for (int k = 0; k <= ML_LK_SUPPRESSED; k++)
        blocks += p->summary[k].blocks;
    return blocks == 0;
}

static void put_leaks(const struct tout *t, const struct ml_proc_report *p)
{
    if (t->o->quiet) {                  /* valgrind -q: the records, nothing else */
        if (p->scanned && t->o->leak_check == ML_LEAK_CHECK_FULL)
            put_records(t, p);
    } else if (t->o->leak_check == ML_LEAK_CHECK_NO) {
        line(t, "For a detailed leak analysis, rerun with: --leak-check=full");
        blank(t);
    } else if (nothing_live(p)) {
        line(t, "All heap blocks were freed -- no leaks are possible");
        blank(t);
    } else if (!p->scanned) {
        put_not_scanned(t, p);
    } else {
        if (p->unread_bytes) {
            line(t, "Warning: %s bytes of the process's memory could not be read at exit",
                 commas(p->unread_bytes).s);
            line(t, "(memlens ran out of memory); blocks referenced only from there are counted");
            line(t, "as lost.");
            blank(t);
        }
        if (p->uncopied_bytes) {
            line(t, "Warning: %s bytes of heap memory could not be copied at exit (memlens",
                 commas(p->uncopied_bytes).s);
            line(t, "ran out of memory) and were only scanned for pointers: memcheck's");
            line(t, "heuristics do not apply to blocks there, and the heap figures miss them.");
            blank(t);
        }
        if (t->o->leak_check == ML_LEAK_CHECK_FULL)
            put_records(t, p);
        put_leak_summary(t, p);
    }
}

/* ---- heap fragmentation and residency ---------------------------------------- */

#define CULPRITS_SHOWN 5
#define CULPRIT_FRAMES 8

/* 512 -> "512", 2048 -> "2K", 3 << 20 -> "3M": bucket bounds are powers of two. */
static struct num size_label(uint64_t v)
{
    static const char unit[] = {'\0', 'K', 'M', 'G'};
    struct num n;
    int u = 0;
    while (u < 3 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(n.s, sizeof n.s, "%" PRIu64 "%.1s", v, unit[u] ? &unit[u] : "");
    return n;
}

static void put_gap_histogram(const struct tout *t, const struct ml_heap_out *h)
{
    size_t nb = sizeof h->gap_histogram / sizeof h->gap_histogram[0], any = 0;
    prefix(t);
    fputs("   free gaps between live chunks, by size:", t->out);
    for (size_t i = 0; i < nb; i++) {
        if (!h->gap_histogram[i]) continue;
        fprintf(t->out, " [%s, ", size_label(i ? 16ull << i : 0).s);
        fprintf(t->out, "%s): %s", i + 1 < nb ? size_label(32ull << i).s : "...",
                commas(h->gap_histogram[i]).s);
        any = 1;
    }
    fputs(any ? "\n" : " none\n", t->out);
}

static void put_part(const struct tout *t, const struct ml_heap_part *part)
{
    const struct ml_heap_figures *f = &part->fig;
    line(t, "   %-14s %012" PRIx64 "-%012" PRIx64 ": %s bytes, %s live, %s free, "
            "largest free %s, external fragmentation %.3f",
         ml_heap_kind_text(part->kind), part->start, part->end, commas(f->extent_bytes).s,
         commas(f->live_bytes).s, commas(f->free_bytes).s, commas(f->largest_free_bytes).s,
         f->external_fragmentation);
}

/* Sites with pinned pages, worst first, with their top frames. */
static void put_culprits(const struct tout *t, const struct ml_heap_out *h)
{
    size_t shown = 0;
    for (size_t i = 0; i < h->nsites && shown < CULPRITS_SHOWN; i++) {
        const struct ml_heap_site *s = &h->sites[i];
        if (s->pinned_pages == 0) break;
        if (shown++ == 0)
            line(t, "Top fragmentation culprits (resident pages on which a site's blocks "
                    "are the only live data, at least half of each free):");
        line(t, "%s pinned pages (%s bytes) by %s live bytes in %s blocks (%s bytes resident)",
             commas(s->pinned_pages).s, commas(s->pinned_pages * ML_PAGE_SIZE).s,
             commas(s->live_bytes).s, commas(s->blocks).s, commas(s->resident_bytes).s);
        put_first_frames(t, &s->stack, CULPRIT_FRAMES);
        blank(t);
    }
}

static void put_fragmentation(const struct tout *t, const struct ml_proc_report *p)
{
    const struct ml_heap_out *h = &p->heap;
    const struct ml_heap_figures *f = &h->total;
    if (!h->present) return;
    line(t, "HEAP FRAGMENTATION:");
    if (h->glibc_only)
        line(t, "   the program allocates with %s, not glibc's malloc: these figures cover "
             "glibc's heap only", h->malloc_path ? h->malloc_path : "another allocator");
    if (h->nparts == 0) {
        line(t, "   no malloc heap was found at exit");
        blank(t);
        return;
    }
    line(t, "         heap extent: %s bytes in %s part%s", commas(f->extent_bytes).s,
         commas(h->nparts).s, h->nparts == 1 ? "" : "s");
    line(t, "          live bytes: %s requested, %s usable (internal fragmentation: %s bytes)",
         commas(f->live_bytes).s, commas(f->usable_bytes).s,
         commas(f->internal_fragmentation_bytes).s);
    line(t, "          free bytes: %s, largest free range %s bytes", commas(f->free_bytes).s,
         commas(f->largest_free_bytes).s);
    line(t, "   external fragmentation: %.3f (1 - largest free / free)", f->external_fragmentation);
    line(t, "   malloc_trim(0) could return %s resident bytes", commas(f->trimmable_bytes).s);
    put_gap_histogram(t, h);
    for (size_t i = 0; i < h->nparts; i++)
        put_part(t, &h->parts[i]);
    blank(t);
    put_culprits(t, h);
}

/* Which shown loss records cost RAM now, and which sit in swap. */
static void put_record_residency(const struct tout *t, const struct ml_proc_report *p)
{
    for (size_t i = 0; i < p->nrecords; i++) {
        const struct ml_leak_record *rec = &p->records[i];
        if (rec->suppressed || (unsigned)rec->kind >= ML_LK_COUNT ||
            !(t->o->show_kinds & (1u << rec->kind)))
            continue;
        prefix(t);
        fprintf(t->out, "   loss record %s of %s (%s): %s of %s bytes resident",
                commas(i + 1).s, commas(p->nrecords).s, ml_leak_kind_text(rec->kind),
                commas(rec->resident_bytes).s, commas(rec->bytes).s);
        if (rec->swapped_bytes)
            fprintf(t->out, ", %s swapped out", commas(rec->swapped_bytes).s);
        fputc('\n', t->out);
    }
}

static void put_residency(const struct tout *t, const struct ml_proc_report *p)
{
    const struct ml_heap_out *h = &p->heap;
    if (!h->present) return;
    line(t, "RESIDENCY:");
    line(t, "   heap resident: %s of %s bytes; %s resident page%s hold%s no live data",
         commas(h->total.resident_bytes).s, commas(h->total.extent_bytes).s,
         commas(h->total.resident_free_pages).s, h->total.resident_free_pages == 1 ? "" : "s",
         h->total.resident_free_pages == 1 ? "s" : "");
    for (size_t i = 0; i < h->nparts; i++)
        line(t, "   %-14s %s of %s bytes resident, %s free pages resident",
             ml_heap_kind_text(h->parts[i].kind), commas(h->parts[i].fig.resident_bytes).s,
             commas(h->parts[i].fig.extent_bytes).s,
             commas(h->parts[i].fig.resident_free_pages).s);
    put_record_residency(t, p);
    blank(t);
}

/* ---- memory map, shm and mappings -------------------------------------------- */

static struct ml_num kib(uint64_t bytes)
{
    return commas((bytes + 1023) / 1024);
}

static void put_region_line(const struct tout *t, const char *kind, uint64_t start, uint64_t end,
                            uint64_t size, uint64_t resident, uint64_t swapped, const char *perms,
                            const char *path)
{
    char range[40];
    snprintf(range, sizeof range, "%012" PRIx64 "-%012" PRIx64, start, end);
    prefix(t);
    fprintf(t->out, "   %-9s %-25s %10s %10s %8s %-4s ", kind, range, kib(size).s, kib(resident).s,
            kib(swapped).s, perms);
    put_clean(t->out, path);
    fputc('\n', t->out);
}

/* memlens's own mappings in the process, on one line: not the program's. */
static void put_memlens_own(const struct tout *t, const struct ml_proc_report *p)
{
    uint64_t size = 0, res = 0, n = 0;
    for (size_t i = 0; i < p->nregions; i++)
        if (p->regions[i].memlens) {
            size += p->regions[i].size;
            res += p->regions[i].resident;
            n++;
        }
    if (!n) return;
    prefix(t);
    fprintf(t->out, "   memlens's own, not the program's (not counted above): %s KiB in %s mappings, "
                    "%s KiB resident:", kib(size).s, commas(n).s, kib(res).s);
    for (size_t i = 0; i < p->nregions; i++) {
        const struct ml_region_out *r = &p->regions[i];
        if (!r->memlens || r->path[0] != '/' || (i > 0 && p->regions[i - 1].memlens &&
                                                 strcmp(p->regions[i - 1].path, r->path) == 0))
            continue;
        fputc(' ', t->out);
        put_clean(t->out, base_name(r->path));
    }
    fputc('\n', t->out);
}

/* Low to high; the mappings of one loaded object (and its .bss) form one line. */
static void put_layout(const struct tout *t, const struct ml_proc_report *p)
{
    if (!p->nregions) return;
    line(t, "PROCESS LAYOUT (low to high address; sizes in KiB):");
    line(t, "   %-9s %-25s %10s %10s %8s %-4s %s", "kind", "range", "size", "resident", "swapped",
         "perm", "object");
    for (size_t i = 0; i < p->nregions;) {
        const struct ml_region_out *r = &p->regions[i];
        size_t j = i + 1;
        uint64_t size = r->size, res = r->resident, swp = r->swapped;
        if (r->memlens) {                       /* listed apart, below */
            i++;
            continue;
        }
        if (r->path[0] == '/' && (r->kind == ML_RK_TEXT || r->kind == ML_RK_RODATA || r->kind == ML_RK_DATA)) {
            while (j < p->nregions && p->regions[j].start == p->regions[j - 1].end &&
                   (strcmp(p->regions[j].path, r->path) == 0 || p->regions[j].kind == ML_RK_BSS)) {
                size += p->regions[j].size;
                res += p->regions[j].resident;
                swp += p->regions[j].swapped;
                if (p->regions[j++].kind == ML_RK_BSS) break;
            }
            put_region_line(t, "object", r->start, p->regions[j - 1].end, size, res, swp, "", r->path);
        } else {
            put_region_line(t, ml_region_kind_name((enum ml_region_kind)r->kind), r->start, r->end,
                            size, res, swp, r->perms, r->path);
        }
        i = j;
    }
    put_memlens_own(t, p);
    blank(t);
}

/* --diff: the stacks of the shown kinds that are new or hold more than in OLD. */
/* r: the whole report, for the name of the old one; NULL when not at hand. */
static void put_diff(const struct tout *t, const struct ml_report *r, const struct ml_proc_report *p)
{
    const struct ml_proc_diff *d = &p->diff;
    size_t shown = 0;
    if (!d->present) return;
    for (size_t i = 0; i < d->nrecords; i++) shown += (t->o->show_kinds >> d->records[i].kind) & 1;
    prefix(t);
    fputs("GROWTH since ", t->out);
    put_clean(t->out, r && r->diff_against ? r->diff_against : "the old report");
    if (d->old_pid) fprintf(t->out, " (pid %d)", d->old_pid);
    else fputs(" (no process of this program in it)", t->out);
    fprintf(t->out, ": %zu stacks new or grown, %" PRIu64 " gone\n", shown, d->gone);
    for (size_t i = 0; i < d->nrecords; i++) {
        const struct ml_diff_record *g = &d->records[i];
        if (!((t->o->show_kinds >> g->kind) & 1)) continue;
        line(t, "   +%s bytes in +%s blocks (now %s bytes in %s blocks): %s, %s",
             commas(g->bytes - g->old_bytes).s, commas(g->blocks - g->old_blocks).s,
             commas(g->bytes).s, commas(g->blocks).s, ml_leak_kind_text(g->kind),
             g->status == ML_DIFF_NEW ? "new" : "grew");
        const struct ml_stack_out *st = &p->records[g->record].stack;
        put_stack_frames(t, st);
    }
    blank(t);
}

static void put_shm(const struct tout *t, const struct ml_proc_report *p)
{
    if (!p->nshm) return;
    line(t, "SHARED MEMORY:");
    for (size_t i = 0; i < p->nshm; i++) {
        const struct ml_shm_out *s = &p->shm[i];
        prefix(t);
        if (s->path) {
            fputs("   POSIX shm ", t->out);
            put_clean(t->out, s->path);
            fprintf(t->out, ": %s\n", s->leaked ? "never unlinked: outlives the process (leak)"
                                                 : "unlinked");
        } else {
            fprintf(t->out, "   SysV shmid %d key 0x%08" PRIx64 ", %s bytes: %s, %s%s\n", s->shmid,
                    (uint64_t)s->key & 0xffffffffu, commas(s->size).s,
                    s->attached == 0 ? "never attached" : s->detached ? "detached" : "still attached at exit",
                    s->removed ? "removed" : "never removed",
                    s->leaked ? ": outlives the process (leak)" : "");
        }
        put_stack_frames(t, &s->stack);
    }
    blank(t);
}

static void put_mapping_leaks(const struct tout *t, const struct ml_proc_report *p)
{
    for (size_t i = 0; i < p->nmapping_leaks; i++) {
        const struct ml_mapping_leak *l = &p->mapping_leaks[i];
        line(t, "%s bytes in %s anonymous mappings are never unmapped (%s resident)",
             commas(l->bytes).s, commas(l->mappings).s, commas(l->resident_bytes).s);
        put_stack_frames(t, &l->stack);
        blank(t);
    }
}

static void put_syscalls(const struct tout *t, const struct ml_proc_report *p)
{
    if (!p->have_syscalls) return;
    prefix(t);
    fputs("MEMORY SYSCALLS:", t->out);
    static const char *const names[ML_SC_COUNT] = {
        "brk", "mmap", "munmap", "mremap", "mprotect", "shmget", "shmat", "shmdt", "shmctl"};
    for (int i = 0; i < ML_SC_COUNT; i++) fprintf(t->out, " %s %s", names[i], commas(p->syscalls[i]).s);
    fputc('\n', t->out);
    blank(t);
}

/* ---- suppressions (-v) --------------------------------------------------------- */

static void put_suppression_files(const struct tout *t)
{
    for (int i = 0; i < t->o->nsuppression_files; i++)
        detail(t, "Reading suppressions file: %s", t->o->suppression_files[i]);
}

/* How many records the entry that silenced record i silenced, and their
 * blocks and bytes in *sum; 0 when an earlier record used it too (it is
 * counted there). */
static size_t entry_uses(const struct ml_proc_report *p, size_t i, struct ml_totals *sum)
{
    const struct ml_leak_record *r = &p->records[i];
    size_t n = 0;
    *sum = (struct ml_totals){0, 0};
    for (size_t j = 0; j < p->nrecords; j++) {
        const struct ml_leak_record *o = &p->records[j];
        if (!o->suppressed || !o->suppression || strcmp(o->suppression, r->suppression) != 0 ||
            o->suppression_line != r->suppression_line ||
            (o->suppression_file != r->suppression_file &&
             (!o->suppression_file || !r->suppression_file ||
              strcmp(o->suppression_file, r->suppression_file) != 0)))
            continue;
        if (j < i) return 0;
        n++;
        sum->blocks += o->blocks;
        sum->bytes += o->bytes;
    }
    return n;
}

static int any_suppressed(const struct ml_proc_report *p)
{
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].suppressed && p->records[i].suppression) return 1;
    return 0;
}

/* valgrind's list with -s or -v: each entry used, "used_suppression: N name
 * file:line suppressed: B bytes in K blocks", after an ERROR SUMMARY that
 * the last line then repeats. */
static void put_used_suppressions(const struct tout *t, const struct ml_proc_report *p,
                                  const char *summary)
{
    if (!any_suppressed(p))
        return;
    line(t, "%s", summary);
    detail(t, "%s", "");
    for (size_t i = 0; i < p->nrecords; i++) {
        const struct ml_leak_record *r = &p->records[i];
        struct ml_totals sum;
        size_t n = r->suppressed && r->suppression ? entry_uses(p, i, &sum) : 0;
        if (n)
            detail(t, "used_suppression: %6zu %s %s:%d suppressed: %s bytes in %s blocks", n,
                   r->suppression, r->suppression_file ? r->suppression_file : "?",
                   r->suppression_line, commas(sum.bytes).s, commas(sum.blocks).s);
    }
    blank(t);
}

/* ---- report ---------------------------------------------------------------------- */

/* What the shim could not keep: said before the figures it makes incomplete. */
static void put_losses(const struct tout *t, const struct ml_proc_report *p)
{
    if (p->lost_events)
        line(t, "%" PRIu64 " allocation events could not be recorded (no address space left for "
             "memlens's session): the figures below are incomplete.", p->lost_events);
    if (p->stacks_full)
        line(t, "The stack table was full: blocks allocated from stacks first seen after that "
             "have no stack (one record each kind, naming no function).");
    blank(t);
}

/* memcheck's last lines: leaks count as errors only in a full leak check;
 * -s and -v list the suppressions used first. */
static void put_error_summary(const struct tout *t, const struct ml_proc_report *p)
{
    struct ml_error_counts n =
        ml_error_counts(p, t->o->leak_check == ML_LEAK_CHECK_FULL, t->o->error_kinds);
    char summary[192];

    if (t->o->quiet)
        return;
    snprintf(summary, sizeof summary, "ERROR SUMMARY: %s errors from %s contexts (suppressed: %s from %s)",
             commas(n.errors).s, commas(n.contexts).s, commas(n.suppressed).s,
             commas(n.suppressed_contexts).s);
    if (t->o->show_error_list || t->o->verbose)
        put_used_suppressions(t, p, summary);
    else
        line(t, "For lists of detected and suppressed errors, rerun with: -s");
    line(t, "%s", summary);
}

/* What is known at the end: how the process ended, the heap and leak
 * summaries, memlens's own sections, the ERROR SUMMARY.  With -q, as with
 * valgrind's -q, only the loss records. */
static void put_end(const struct tout *t, const struct ml_report *r,
                    const struct ml_proc_report *p)
{
    if (!t->o->quiet)
        blank(t);
    put_exit(t, p);
    put_fds(t, p);
    if (p->lost_events || p->stacks_full)
        put_losses(t, p);
    if (p->not_recorded) {
        line(t, "memlens could not record this process: %s.", p->not_recorded);
        line(t, "Its allocations are unknown. No leak can be reported.");
        blank(t);
    } else if (!p->saw_shim) {
        line(t, "No allocation was seen: the program uses a static allocator, or the");
        line(t, "memlens shim was not loaded into it. No heap summary is available.");
        blank(t);
    } else if (p->alloc.calls == 0 && p->alloc.live_blocks == 0) {
        line(t, "No allocation was seen: the program made none through the C library's");
        line(t, "malloc family or C++ new, or it uses an allocator of its own, which memlens");
        line(t, "cannot see. No leak can be reported.");
        blank(t);
    } else {
        if (!t->o->quiet)
            put_heap_summary(t, p);
        put_leaks(t, p);
    }
    put_diff(t, r, p);
    if (!t->o->quiet && t->o->leak_check == ML_LEAK_CHECK_FULL) {
        put_fragmentation(t, p);
        put_residency(t, p);
        put_mapping_leaks(t, p);
        put_shm(t, p);
        put_layout(t, p);
        put_syscalls(t, p);
    }
    put_error_summary(t, p);
}

static const struct ml_render_opts default_opts = {
    .show_kinds = 1u << ML_LK_DEFINITE | 1u << ML_LK_POSSIBLE,
    .error_kinds = 1u << ML_LK_DEFINITE | 1u << ML_LK_POSSIBLE,
    .leak_check = ML_LEAK_CHECK_FULL,
};

int ml_render_text_banner(FILE *out, int pid, int ppid, char *const *argv,
                          const struct ml_render_opts *o)
{
    struct tout t = { .out = out, .pid = pid, .o = o ? o : &default_opts };

    if (!out) {
        errno = EINVAL;
        return -1;
    }
    if (!t.o->quiet)
        put_header(&t, argv, ppid);
    if (t.o->verbose)
        put_suppression_files(&t);
    return ml_render_flushed(out);
}

int ml_render_text_end(FILE *out, const struct ml_report *r, const struct ml_proc_report *p,
                       const struct ml_render_opts *o)
{
    struct tout t = { .out = out, .pid = p ? p->pid : 0, .o = o ? o : &default_opts };

    if (!out || !p) {
        errno = EINVAL;
        return -1;
    }
    put_end(&t, r, p);
    return ml_render_flushed(out);
}

int ml_render_text(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    if (!out || !r) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ml_proc_report *p = &r->procs[i];
        char *const *argv = p->argv && p->argv[0] ? p->argv : r->command;
        if (ml_render_text_banner(out, p->pid, p->ppid, argv, o) != 0 ||
            ml_render_text_end(out, r, p, o) != 0)
            return -1;
    }
    return 0;
}
