/* model.c - names of the leak kinds, memcheck's record titles, release of a report.
 *
 * The report (model.h) owns every string and array it points to; this
 * module knows that ownership and frees it.  It owns nothing itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "stacktab.h"

static const char *const kind_keys[ML_LK_COUNT] = {
    [ML_LK_REACHABLE] = "reachable",
    [ML_LK_POSSIBLE] = "possible",
    [ML_LK_INDIRECT] = "indirect",
    [ML_LK_DEFINITE] = "definite",
};

static const char *const kind_texts[ML_LK_COUNT] = {
    [ML_LK_REACHABLE] = "still reachable",
    [ML_LK_POSSIBLE] = "possibly lost",
    [ML_LK_INDIRECT] = "indirectly lost",
    [ML_LK_DEFINITE] = "definitely lost",
};

const char *ml_leak_kind_key(enum ml_leak_kind k)
{
    return (unsigned)k < ML_LK_COUNT ? kind_keys[k] : "unknown";
}

const char *ml_leak_kind_text(enum ml_leak_kind k)
{
    return (unsigned)k < ML_LK_COUNT ? kind_texts[k] : "of unknown kind";
}

struct ml_num ml_thousands(uint64_t v)
{
    char digits[24];
    struct ml_num n;
    int len = snprintf(digits, sizeof digits, "%" PRIu64, v), j = 0;

    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            n.s[j++] = ',';
        n.s[j++] = digits[i];
    }
    n.s[j] = '\0';
    return n;
}

int ml_below_main(const char *function)
{
    return function && (strncmp(function, "__libc_start_main", 17) == 0 ||
                        strcmp(function, "__libc_start_call_main") == 0 ||
                        strncmp(function, "generic_start_main", 18) == 0);
}

int ml_loss_record_title(char *buf, size_t len, const struct ml_leak_record *rec,
                         size_t index, size_t count)
{
    const char *kind = ml_leak_kind_text(rec->kind);

    if (rec->indirect_bytes > 0)
        return snprintf(buf, len, "%s (%s direct, %s indirect) bytes in %s blocks are %s "
                        "in loss record %s of %s",
                        ml_thousands(rec->bytes + rec->indirect_bytes).s,
                        ml_thousands(rec->bytes).s, ml_thousands(rec->indirect_bytes).s,
                        ml_thousands(rec->blocks).s, kind, ml_thousands(index).s,
                        ml_thousands(count).s);
    return snprintf(buf, len, "%s bytes in %s blocks are %s in loss record %s of %s",
                    ml_thousands(rec->bytes).s, ml_thousands(rec->blocks).s, kind,
                    ml_thousands(index).s, ml_thousands(count).s);
}

struct ml_error_counts ml_error_counts(const struct ml_proc_report *p, int full_check,
                                       unsigned error_kinds)
{
    struct ml_error_counts n = {0, 0, 0, 0};

    for (size_t i = 0; full_check && p && i < p->nrecords; i++) {
        const struct ml_leak_record *rec = &p->records[i];
        if ((unsigned)rec->kind >= ML_LK_COUNT || !(error_kinds & (1u << rec->kind)))
            continue;
        if (rec->suppressed)
            n.suppressed++, n.suppressed_contexts++;
        else
            n.errors++, n.contexts++;
    }
    return n;
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (char **s = v; *s; s++)
        free(*s);
    free(v);
}

void ml_stack_out_free(struct ml_stack_out *st)
{
    *st = (struct ml_stack_out){0};   /* its frames are its table's */
}

/* Frees what p owns, not p itself (it usually sits in an array). */
void ml_fd_out_free(struct ml_fd_out *f)
{
    free(f->kind);
    free(f->path);
    free(f->family);
    free(f->address);
    free(f->function);
    ml_stack_out_free(&f->stack);
}

void ml_proc_report_free(struct ml_proc_report *p)
{
    if (!p)
        return;
    free(p->exe);
    free(p->not_recorded);
    free_strv(p->argv);
    for (size_t i = 0; i < p->nrecords; i++) {
        ml_stack_out_free(&p->records[i].stack);
        free(p->records[i].suppression);
        free(p->records[i].suppression_file);
    }
    free(p->records);
    for (size_t i = 0; i < p->nregions; i++) {
        free(p->regions[i].path);
        free(p->regions[i].origin);
        free(p->regions[i].build_id);
        ml_stack_out_free(&p->regions[i].stack);
    }
    free(p->regions);
    free(p->own_maps);
    for (size_t i = 0; i < p->heap.nsites; i++) ml_stack_out_free(&p->heap.sites[i].stack);
    free(p->heap.sites);
    free(p->heap.parts);
    free(p->heap.page_map);
    free(p->heap.malloc_path);
    for (size_t i = 0; i < p->nshm; i++) {
        ml_stack_out_free(&p->shm[i].stack);
        free(p->shm[i].path);
    }
    free(p->shm);
    free(p->timeline);
    for (size_t i = 0; i < p->ngrowth; i++)
        for (size_t k = 0; k < p->growth[i].nsites; k++) ml_stack_out_free(&p->growth[i].sites[k].stack);
    free(p->growth);
    for (size_t i = 0; i < p->nmapping_leaks; i++) ml_stack_out_free(&p->mapping_leaks[i].stack);
    free(p->mapping_leaks);
    for (size_t i = 0; i < p->nfds; i++) ml_fd_out_free(&p->fds[i]);
    free(p->fds);
    free(p->diff.records);
    ml_stacktab_free(p->stacks);
    memset(p, 0, sizeof *p);
}

void ml_report_options_free(struct ml_report_options *o)
{
    free_strv(o->suppressions);
    free_strv(o->alloc_fns);
    o->suppressions = o->alloc_fns = NULL;
}

char **ml_strv_dup(char *const *v)
{
    size_t n = 0;
    if (!v) return NULL;
    while (v[n]) n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            free_strv(out);
            return NULL;
        }
    return out;
}

/* Frees what r owns and r itself.  r->mode points to a literal: not freed. */
void ml_report_free(struct ml_report *r)
{
    if (!r)
        return;
    free_strv(r->command);
    ml_report_options_free(&r->options);
    free(r->diff_against);
    for (size_t i = 0; i < r->nprocs; i++)
        ml_proc_report_free(&r->procs[i]);
    free(r->procs);
    free(r);
}
