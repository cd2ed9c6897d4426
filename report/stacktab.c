/* stacktab.c - the resolved stacks of one process report (see stacktab.h).
 *
 * Frames and nodes live in arrays indexed by uint32_t, each found again
 * through an open-addressing table of indices (+1, 0 empty) kept at most
 * half full.  Node 0 is the root: the caller of every outermost frame.
 */
#include "stacktab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "strpool.h"

struct node {
    uint32_t frame;            /* index into frames */
    uint32_t caller;           /* node of the calling frame; ML_STACK_ROOT for none */
};

struct index {                 /* slots of indices + 1 into an array; 0 = empty */
    uint32_t *slot;
    size_t mask;               /* slots - 1 (a power of two), 0 before the first use */
};

struct ml_stacktab {
    struct ml_strpool *strings;
    struct ml_frame_out *frames;
    size_t nframes, cap_frames;
    struct index frame_index;
    struct node *nodes;        /* nodes[0] is the root */
    size_t nnodes, cap_nodes;
    struct index node_index;
};

struct ml_stacktab *ml_stacktab_new(void)
{
    struct ml_stacktab *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->strings = ml_strpool_new();
    t->nodes = malloc(16 * sizeof *t->nodes);
    if (!t->strings || !t->nodes) {
        ml_stacktab_free(t);
        return NULL;
    }
    t->nodes[0] = (struct node){0, ML_STACK_ROOT};
    t->nnodes = 1;
    t->cap_nodes = 16;
    return t;
}

void ml_stacktab_free(struct ml_stacktab *t)
{
    if (!t) return;
    ml_strpool_free(t->strings);
    free(t->frames);
    free(t->frame_index.slot);
    free(t->nodes);
    free(t->node_index.slot);
    free(t);
}

struct ml_strpool *ml_stacktab_strings(struct ml_stacktab *t)
{
    return t->strings;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x9E3779B97F4A7C15ull;
}

/* The strings are the pool's: equal strings are equal pointers. */
static uint64_t frame_hash(const struct ml_frame_out *f)
{
    uint64_t h = mix(0, f->address);
    h = mix(h, (uint64_t)(uint32_t)f->line << 1 | (f->inlined != 0));
    h = mix(h, (uintptr_t)f->function);
    h = mix(h, (uintptr_t)f->file);
    h = mix(h, (uintptr_t)f->module);
    h = mix(h, (uintptr_t)f->mangled);
    h = mix(h, (uintptr_t)f->aliases[0]);
    h = mix(h, (uintptr_t)f->aliases[1]);
    return h ^ h >> 29;
}

static int same_frame(const struct ml_frame_out *a, const struct ml_frame_out *b)
{
    return a->address == b->address && a->line == b->line && !a->inlined == !b->inlined &&
           a->function == b->function && a->file == b->file && a->module == b->module &&
           a->mangled == b->mangled && a->aliases[0] == b->aliases[0] &&
           a->aliases[1] == b->aliases[1];
}

static uint64_t node_hash(struct node n)
{
    uint64_t h = mix(mix(0, n.frame), n.caller);
    return h ^ h >> 29;
}

/* Double ix's slots for entries first..count-1, placing entry i at
 * hash(ctx, i).  Returns 0 or -ENOMEM. */
static int index_grow(struct index *ix, size_t first, size_t count,
                      uint64_t (*hash)(const void *, size_t), const void *ctx)
{
    size_t nslots = ix->mask ? (ix->mask + 1) * 2 : 64;
    uint32_t *slot = calloc(nslots, sizeof *slot);
    if (!slot) return -ENOMEM;
    for (size_t i = first; i < count; i++) {
        size_t s = (size_t)hash(ctx, i) & (nslots - 1);
        while (slot[s]) s = (s + 1) & (nslots - 1);
        slot[s] = (uint32_t)i + 1;
    }
    free(ix->slot);
    ix->slot = slot;
    ix->mask = nslots - 1;
    return 0;
}

static uint64_t frame_hash_at(const void *ctx, size_t i)
{
    return frame_hash(&((const struct ml_stacktab *)ctx)->frames[i]);
}

static uint64_t node_hash_at(const void *ctx, size_t i)
{
    return node_hash(((const struct ml_stacktab *)ctx)->nodes[i]);
}

/* Room for one more element of size each in *v (count n, room *cap). */
static int reserve(void **v, size_t n, size_t *cap, size_t each)
{
    if (n < *cap) return 0;
    if (n >= UINT32_MAX - 1) return -ENOMEM;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, ncap * each);
    if (!p) return -ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

/* The index of frame f in t, added when new; -ENOMEM. */
static int64_t frame_id(struct ml_stacktab *t, const struct ml_frame_out *f)
{
    if (t->nframes * 2 >= t->frame_index.mask &&
        index_grow(&t->frame_index, 0, t->nframes, frame_hash_at, t) != 0)
        return -ENOMEM;
    size_t s = (size_t)frame_hash(f) & t->frame_index.mask;
    for (; t->frame_index.slot[s]; s = (s + 1) & t->frame_index.mask)
        if (same_frame(&t->frames[t->frame_index.slot[s] - 1], f)) return t->frame_index.slot[s] - 1;
    if (reserve((void **)&t->frames, t->nframes, &t->cap_frames, sizeof *t->frames)) return -ENOMEM;
    t->frames[t->nframes] = *f;
    t->frame_index.slot[s] = (uint32_t)++t->nframes;
    return (int64_t)t->nframes - 1;
}

/* The node of frame `frame` called from node `caller`, added when new; -ENOMEM. */
static int64_t node_id(struct ml_stacktab *t, uint32_t frame, uint32_t caller)
{
    struct node key = {frame, caller};
    if (t->nnodes * 2 >= t->node_index.mask &&      /* the root is in no slot */
        index_grow(&t->node_index, 1, t->nnodes, node_hash_at, t) != 0)
        return -ENOMEM;
    size_t s = (size_t)node_hash(key) & t->node_index.mask;
    for (; t->node_index.slot[s]; s = (s + 1) & t->node_index.mask) {
        const struct node *n = &t->nodes[t->node_index.slot[s] - 1];
        if (n->frame == frame && n->caller == caller) return t->node_index.slot[s] - 1;
    }
    if (reserve((void **)&t->nodes, t->nnodes, &t->cap_nodes, sizeof *t->nodes)) return -ENOMEM;
    t->nodes[t->nnodes] = key;
    t->node_index.slot[s] = (uint32_t)++t->nnodes;
    return (int64_t)t->nnodes - 1;
}

int ml_stacktab_put(struct ml_stacktab *t, const struct ml_frame_out *f, size_t n,
                    struct ml_stack_out *st)
{
    uint32_t node = ML_STACK_ROOT;
    if (n > UINT32_MAX) return -ENOMEM;
    for (size_t i = n; i-- > 0;) {       /* from the outermost frame in */
        int64_t fr = frame_id(t, &f[i]);
        int64_t id = fr < 0 ? fr : node_id(t, (uint32_t)fr, node);
        if (id < 0) return -ENOMEM;
        node = (uint32_t)id;
    }
    *st = (struct ml_stack_out){.tab = n ? t : NULL, .top = node, .nframes = (uint32_t)n};
    return 0;
}

const struct ml_frame_out *ml_stack_node(const struct ml_stacktab *t, uint32_t node,
                                         uint32_t *caller)
{
    *caller = t->nodes[node].caller;
    return &t->frames[t->nodes[node].frame];
}

void ml_stack_frames(const struct ml_stack_out *st, const struct ml_frame_out **out)
{
    uint32_t node = st->top;
    for (uint32_t i = 0; i < st->nframes; i++)
        out[i] = ml_stack_node(st->tab, node, &node);
}

const struct ml_frame_out **ml_stack_view(const struct ml_stack_out *st)
{
    if (!st->nframes) return NULL;
    const struct ml_frame_out **v = malloc(st->nframes * sizeof *v);
    if (v) ml_stack_frames(st, v);
    return v;
}

size_t ml_stacktab_bytes(const struct ml_stacktab *t)
{
    return t->cap_frames * sizeof *t->frames + t->cap_nodes * sizeof *t->nodes +
           ((t->frame_index.mask + 1) + (t->node_index.mask + 1)) * sizeof(uint32_t);
}
