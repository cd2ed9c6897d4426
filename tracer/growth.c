/* growth.c - per-site growth of unfreed bytes between samples (see growth.h). */
#include "growth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"
#include "model.h"
#include "stacktab.h"
#include "symbols.h"

struct site {
    uint32_t stack;
    uint32_t streak;         /* samples in a row in which its bytes grew */
    uint64_t bytes, blocks;
    int64_t grew;            /* bytes since the previous sample */
};

struct sample {              /* one sample's figures, the sites' stacks as ids */
    double seconds, span;
    unsigned growing;
    struct site top[ML_GROWTH_TOP];
    size_t ntop;
};

struct ml_growth {
    struct site *prev;       /* sorted by stack */
    size_t nprev;
    double prev_seconds;
    struct sample *hist;
    size_t nhist;
};

struct ml_growth *ml_growth_new(void)
{
    return calloc(1, sizeof(struct ml_growth));
}

void ml_growth_free(struct ml_growth *g)
{
    if (!g) return;
    free(g->prev);
    free(g->hist);
    free(g);
}

static int cmp_block_stack(const void *a, const void *b)
{
    const struct ml_block *x = a, *y = b;
    return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int cmp_grew_desc(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    return x->grew > y->grew ? -1 : x->grew < y->grew;
}

/* Sum the live blocks per stack: sites sorted by stack. Returns count or -1. */
static long sum_sites(const struct ml_blocks *blocks, struct site **out)
{
    struct ml_block *b = NULL;
    long n = ml_blocks_sorted(blocks, &b);
    if (n < 0) return -1;
    qsort(b, (size_t)n, sizeof *b, cmp_block_stack);
    struct site *s = calloc(n ? (size_t)n : 1, sizeof *s);
    long ns = 0;
    for (long i = 0; s && i < n; i++) {
        if (ns == 0 || s[ns - 1].stack != b[i].stack) s[ns++] = (struct site){.stack = b[i].stack};
        s[ns - 1].bytes += b[i].size;
        s[ns - 1].blocks++;
    }
    free(b);
    *out = s;
    return s ? ns : -1;
}

/* Growth and streak of each site against the previous sample (both sorted). */
static void compare(struct site *now, size_t n, const struct site *prev, size_t np)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        while (j < np && prev[j].stack < now[i].stack) j++;
        const struct site *p = j < np && prev[j].stack == now[i].stack ? &prev[j] : NULL;
        now[i].grew = (int64_t)now[i].bytes - (int64_t)(p ? p->bytes : 0);
        now[i].streak = now[i].grew > 0 ? (p ? p->streak : 0) + 1 : 0;
    }
}

/* "function (file:line)" of the site's first frame with source, else its first. */
static void site_name(struct ml_symbolizer *sym, struct ml_stack_source stacks, uint32_t id,
                      char *buf, size_t len)
{
    struct ml_stack_out st = {0};
    const struct ml_frame_out **fr = NULL;
    snprintf(buf, len, "stack %u", id);
    stacks.into = ml_stacktab_new();
    if (ml_stack_resolve(stacks, sym, 8, 0, id, NULL, &st) == 0 && (fr = ml_stack_view(&st))) {
        const struct ml_frame_out *f = fr[0];
        for (size_t i = 0; i < st.nframes; i++)
            if (fr[i]->file) { f = fr[i]; break; }
        const char *file = f->file ? strrchr(f->file, '/') : NULL;
        file = file ? file + 1 : f->file;
        if (f->function && file) snprintf(buf, len, "%s (%s:%d)", f->function, file, f->line);
        else if (f->function) snprintf(buf, len, "%s", f->function);
        else snprintf(buf, len, "0x%llx", (unsigned long long)f->address);
    }
    free(fr);
    ml_stacktab_free(stacks.into);
}

static void print_sites(struct site *s, size_t n, double span, int pid,
                        struct ml_stack_source stacks, FILE *out, int top)
{
    char *maps = ml_read_proc_file(pid, "maps", NULL);
    struct ml_symbolizer *sym = maps ? ml_symbolizer_new(maps, pid) : NULL;
    for (size_t i = 0; i < n && (int)i < top && s[i].grew > 0; i++) {
        char name[512];
        site_name(sym, stacks, s[i].stack, name, sizeof name);
        fprintf(out, "==%d==    +%lld bytes (%.0f bytes/s, growing %u interval%s in a row): "
                "%llu bytes in %llu blocks unfreed at %s\n", pid, (long long)s[i].grew,
                span > 0 ? (double)s[i].grew / span : 0.0, s[i].streak, s[i].streak == 1 ? "" : "s",
                (unsigned long long)s[i].bytes, (unsigned long long)s[i].blocks, name);
    }
    if (sym) ml_symbolizer_free(sym);
    free(maps);
}

/* Keep the sample's top growing sites (shown: largest growth first). */
static void remember(struct ml_growth *g, const struct site *shown, size_t growing, double seconds)
{
    struct sample *h = realloc(g->hist, (g->nhist + 1) * sizeof *h);
    if (!h) return;                     /* the reports miss a sample; the text had it */
    g->hist = h;
    h = &h[g->nhist++];
    *h = (struct sample){.seconds = seconds, .span = seconds - g->prev_seconds,
                         .growing = (unsigned)growing};
    for (; h->ntop < growing && h->ntop < ML_GROWTH_TOP; h->ntop++) h->top[h->ntop] = shown[h->ntop];
}

int ml_growth_report(const struct ml_growth *g, struct ml_stack_source stacks,
                     struct ml_symbolizer *sym, unsigned max_frames, unsigned style,
                     struct ml_proc_report *out)
{
    if (!g || !g->nhist) return 0;
    out->growth = calloc(g->nhist, sizeof *out->growth);
    if (!out->growth) return -ENOMEM;
    for (size_t i = 0; i < g->nhist; i++) {
        const struct sample *h = &g->hist[i];
        struct ml_growth_point *pt = &out->growth[out->ngrowth++];
        pt->seconds = h->seconds;
        pt->growing = h->growing;
        for (size_t k = 0; k < h->ntop; k++) {
            struct ml_growth_site *s = &pt->sites[pt->nsites++];
            s->grew = h->top[k].grew;
            s->rate = h->span > 0 ? (double)h->top[k].grew / h->span : 0.0;
            s->streak = h->top[k].streak;
            s->bytes = h->top[k].bytes;
            s->blocks = h->top[k].blocks;
            if (ml_stack_resolve(stacks, sym, max_frames, style, h->top[k].stack, NULL, &s->stack))
                return -ENOMEM;
        }
    }
    return 0;
}

int ml_growth_sample(struct ml_growth *g, const struct ml_blocks *blocks, double seconds,
                     int pid, struct ml_stack_source stacks, FILE *out, int top)
{
    struct site *now = NULL;
    long n = sum_sites(blocks, &now);
    if (n < 0) return -ENOMEM;
    compare(now, (size_t)n, g->prev, g->nprev);
    struct site *shown = malloc((n ? (size_t)n : 1) * sizeof *shown);
    if (!shown) { free(now); return -ENOMEM; }
    memcpy(shown, now, (size_t)n * sizeof *now);
    qsort(shown, (size_t)n, sizeof *shown, cmp_grew_desc);
    int growing = 0;
    while (growing < n && shown[growing].grew > 0) growing++;
    fprintf(out, "==%d== %.1f s: %d site%s with growing unfreed bytes\n", pid, seconds, growing,
            growing == 1 ? "" : "s");
    print_sites(shown, (size_t)n, seconds - g->prev_seconds, pid, stacks, out, top);
    fflush(out);
    remember(g, shown, (size_t)growing, seconds);
    free(shown);
    free(g->prev);
    g->prev = now;
    g->nprev = (size_t)n;
    g->prev_seconds = seconds;
    return growing;
}
