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
#include "render.h"
#include "signame.h"
#include "snapshot.h"

struct tout {
    FILE *out;
    int pid;
    const struct ml_render_opts *o;
};

/* A number with valgrind's thousands separators: 1,234,567. */
struct num { char s[32]; };

static struct num commas(uint64_t v)
{
    char digits[24];
    struct num n;
    int len = snprintf(digits, sizeof digits, "%" PRIu64, v), j = 0;

    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            n.s[j++] = ',';
        n.s[j++] = digits[i];
    }
    n.s[j] = '\0';
    return n;
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

/* Writes s with control characters shown as '?', so that a name can never
 * break the line structure of the report. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- header and heap summary -------------------------------------------- */

static void put_header(const struct tout *t, const struct ml_report *r,
                       const struct ml_proc_report *p)
{
    char *const *argv = p->argv && p->argv[0] ? p->argv : r->command;
    const char *version = t->o->tool_version;

    line(t, "memlens%s%s, a memory leak and fragmentation detector",
         version ? "-" : "", version ? version : "");
    prefix(t);
    fputs("Command:", t->out);
    for (; argv && *argv; argv++) {
        fputc(' ', t->out);
        put_clean(t->out, *argv);
    }
    fputc('\n', t->out);
    blank(t);
}

static void put_exit(const struct tout *t, const struct ml_proc_report *p)
{
    char name[32];

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

/* A valgrind suppression matching the record, unprefixed so that it can be
 * pasted into a --suppressions file. */
static void put_suppression(const struct tout *t, const struct ml_leak_record *rec)
{
    fprintf(t->out, "{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n"
                    "   match-leak-kinds: %s\n", ml_leak_kind_key(rec->kind));
    for (size_t i = 0; i < rec->stack.nframes; i++) {
        const struct ml_frame_out *f = &rec->stack.frames[i];
        fputs(f->function ? "   fun:" : "   obj:", t->out);
        put_clean(t->out, f->function ? f->function : f->module ? f->module : "*");
        fputc('\n', t->out);
    }
    fputs("}\n", t->out);
}

static void put_record(const struct tout *t, const struct ml_leak_record *rec,
                       size_t index, size_t count)
{
    const char *kind = ml_leak_kind_text(rec->kind);

    if (rec->indirect_bytes > 0)
        line(t, "%s (%s direct, %s indirect) bytes in %s blocks are %s in loss record %s of %s",
             commas(rec->bytes + rec->indirect_bytes).s, commas(rec->bytes).s,
             commas(rec->indirect_bytes).s, commas(rec->blocks).s, kind,
             commas(index).s, commas(count).s);
    else
        line(t, "%s bytes in %s blocks are %s in loss record %s of %s",
             commas(rec->bytes).s, commas(rec->blocks).s, kind,
             commas(index).s, commas(count).s);
    for (size_t i = 0; i < rec->stack.nframes; i++)
        put_frame(t, &rec->stack.frames[i], i == 0);
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

static void put_leak_summary(const struct tout *t, const struct ml_proc_report *p)
{
    line(t, "LEAK SUMMARY:");
    for (int k = ML_LK_COUNT - 1; k >= 0; k--)
        put_totals(t, ml_leak_kind_text((enum ml_leak_kind)k), &p->summary[k]);
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
    if (t->o->leak_check == ML_LEAK_CHECK_NO) {
        line(t, "For a detailed leak analysis, rerun with: --leak-check=full");
        blank(t);
    } else if (nothing_live(p)) {
        line(t, "All heap blocks were freed -- no leaks are possible");
        blank(t);
    } else if (!p->scanned) {
        put_not_scanned(t, p);
    } else {
        if (t->o->leak_check == ML_LEAK_CHECK_FULL)
            put_records(t, p);
        put_leak_summary(t, p);
    }
}

/* ---- memory map, shm and mappings -------------------------------------------- */

static struct num kib(uint64_t bytes)
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
    blank(t);
}

static void put_stack_frames(const struct tout *t, const struct ml_stack_out *st)
{
    for (size_t i = 0; i < st->nframes; i++) put_frame(t, &st->frames[i], i == 0);
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

/* ---- report ---------------------------------------------------------------------- */

static void put_process(const struct tout *t, const struct ml_report *r,
                        const struct ml_proc_report *p)
{
    put_header(t, r, p);
    put_exit(t, p);
    if (!p->saw_shim) {
        line(t, "No allocation was seen: the program uses a static allocator, or the");
        line(t, "memlens shim was not loaded into it. No heap summary is available.");
        blank(t);
    } else {
        put_heap_summary(t, p);
        put_leaks(t, p);
    }
    if (t->o->quiet || t->o->leak_check != ML_LEAK_CHECK_FULL) return;
    put_mapping_leaks(t, p);
    put_shm(t, p);
    put_layout(t, p);
    put_syscalls(t, p);
}

int ml_render_text(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    static const struct ml_render_opts defaults = {
        .show_kinds = 1u << ML_LK_DEFINITE | 1u << ML_LK_POSSIBLE,
        .leak_check = ML_LEAK_CHECK_FULL,
    };
    struct tout t = { .out = out, .o = o ? o : &defaults };

    if (!out || !r) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < r->nprocs; i++) {
        t.pid = r->procs[i].pid;
        put_process(&t, r, &r->procs[i]);
    }
    if (fflush(out) != 0)
        return -1;
    if (ferror(out)) {
        errno = EIO;
        return -1;
    }
    return 0;
}
