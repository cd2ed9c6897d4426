/* diff.c - what is new and what grew between two reports (see diff.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* open_memstream */
#endif
#include "diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "stacktab.h"

struct stack_sum {
    UT_hash_handle hh;
    char *key;                  /* kind, then function/file/line of every frame */
    enum ml_leak_kind kind;
    uint64_t blocks, bytes;
    size_t first;               /* index of its first record */
    int matched;
};

/* The identity of a record's stack across runs; NULL on ENOMEM. */
static char *stack_key(const struct ml_leak_record *rec)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f) return NULL;
    fprintf(f, "%d", (int)rec->kind);
    uint32_t node = rec->stack.top;
    for (size_t i = 0; i < rec->stack.nframes; i++) {
        const struct ml_frame_out *fr = ml_stack_node(rec->stack.tab, node, &node);
        const char *mod = fr->module ? strrchr(fr->module, '/') : NULL;
        fprintf(f, "\n%s\t%s\t%d\t%s", fr->function ? fr->function : "???", fr->file ? fr->file : "",
                fr->line, fr->function ? "" : mod ? mod + 1 : fr->module ? fr->module : "");
    }
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static void sums_free(struct stack_sum **table)
{
    struct stack_sum *e, *tmp;
    HASH_ITER(hh, *table, e, tmp) {
        HASH_DEL(*table, e);
        free(e->key);
        free(e);
    }
}

/* The unsuppressed records of p added up by stack (in the order first seen). */
static int sums_build(const struct ml_proc_report *p, struct stack_sum **table)
{
    for (size_t i = 0; i < p->nrecords; i++) {
        const struct ml_leak_record *rec = &p->records[i];
        if (rec->suppressed) continue;
        char *key = stack_key(rec);
        if (!key) return -ENOMEM;
        struct stack_sum *e;
        HASH_FIND_STR(*table, key, e);
        if (e) {
            free(key);
        } else {
            if (!(e = calloc(1, sizeof *e))) {
                free(key);
                return -ENOMEM;
            }
            e->key = key;
            e->kind = rec->kind;
            e->first = i;
            HASH_ADD_KEYPTR(hh, *table, e->key, strlen(e->key), e);
        }
        e->blocks += rec->blocks;
        e->bytes += rec->bytes;
    }
    return 0;
}

static int by_growth(const void *a, const void *b)
{
    const struct ml_diff_record *x = a, *y = b;
    uint64_t gx = x->bytes - x->old_bytes, gy = y->bytes - y->old_bytes;
    if (gx != gy) return gx > gy ? -1 : 1;
    if (x->blocks - x->old_blocks != y->blocks - y->old_blocks)
        return x->blocks - x->old_blocks > y->blocks - y->old_blocks ? -1 : 1;
    return x->record < y->record ? -1 : x->record > y->record;
}

static int diff_process(struct ml_proc_report *p, const struct ml_proc_report *old)
{
    struct stack_sum *now = NULL, *then = NULL, *e, *o;
    int rc = sums_build(p, &now);
    if (rc == 0 && old) rc = sums_build(old, &then);
    p->diff.present = 1;
    p->diff.old_pid = old ? old->pid : 0;
    size_t n = HASH_COUNT(now);
    if (rc == 0 && !(p->diff.records = calloc(n ? n : 1, sizeof *p->diff.records))) rc = -ENOMEM;
    for (e = now; rc == 0 && e; e = e->hh.next) {
        HASH_FIND_STR(then, e->key, o);
        if (o) o->matched = 1;
        if (o && e->bytes <= o->bytes && e->blocks <= o->blocks) continue;
        struct ml_diff_record *d = &p->diff.records[p->diff.nrecords++];
        *d = (struct ml_diff_record){.status = o ? ML_DIFF_GREW : ML_DIFF_NEW, .kind = e->kind,
                                     .record = e->first, .blocks = e->blocks, .bytes = e->bytes,
                                     .old_blocks = o ? o->blocks : 0, .old_bytes = o ? o->bytes : 0};
    }
    for (o = then; rc == 0 && o; o = o->hh.next) p->diff.gone += !o->matched;
    if (p->diff.nrecords)
        qsort(p->diff.records, p->diff.nrecords, sizeof *p->diff.records, by_growth);
    sums_free(&now);
    sums_free(&then);
    return rc;
}

static int same_exe(const struct ml_proc_report *a, const struct ml_proc_report *b)
{
    return a->exe && b->exe && strcmp(a->exe, b->exe) == 0;
}

/* The process of old for now's i-th: the one at the same place running the
 * same program, else the first unused one that runs it. */
static const struct ml_proc_report *counterpart(const struct ml_report *now, size_t i,
                                                const struct ml_report *old, unsigned char *used)
{
    if (i < old->nprocs && !used[i] && same_exe(&now->procs[i], &old->procs[i])) {
        used[i] = 1;
        return &old->procs[i];
    }
    for (size_t j = 0; j < old->nprocs; j++)
        if (!used[j] && same_exe(&now->procs[i], &old->procs[j])) {
            used[j] = 1;
            return &old->procs[j];
        }
    return NULL;
}

int ml_report_diff(struct ml_report *now, const struct ml_report *old)
{
    unsigned char *used = calloc(old->nprocs + 1, 1);
    int rc = used ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < now->nprocs; i++)
        rc = diff_process(&now->procs[i], counterpart(now, i, old, used));
    free(used);
    return rc;
}
