/* inherit.c - a forked child's copy of its parent's heap (see inherit.h). */
#include "inherit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct id_map {
    uint32_t parent_id, child_id;
    UT_hash_handle hh;
};

struct copy_ctx {
    struct ml_inherit *inh;
    struct ml_stack_source src;
    struct id_map *ids;
    size_t cap;
    int failed;
};

/* A store entry holding the parent's frames of parent_id. */
static uint32_t keep_stack(struct copy_ctx *c, uint32_t parent_id)
{
    uint32_t depth = 0;
    const uint64_t *frames = c->src.frames ? c->src.frames(c->src.ctx, parent_id, &depth) : NULL;
    struct ml_inherit *inh = c->inh;
    if (!frames || c->failed) return 0;
    if (inh->nstacks == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct ml_kept_stack *p = realloc(inh->stacks, cap * sizeof *p);
        if (!p) { c->failed = 1; return 0; }
        inh->stacks = p;
        c->cap = cap;
    }
    struct ml_kept_stack *k = &inh->stacks[inh->nstacks];
    k->frames = malloc((depth ? depth : 1) * sizeof *k->frames);
    if (!k->frames) { c->failed = 1; return 0; }
    memcpy(k->frames, frames, depth * sizeof *frames);
    k->depth = depth;
    return ML_INHERITED_BIT | (uint32_t)(inh->nstacks++);
}

static uint32_t remap(void *ctx, uint32_t parent_id)
{
    struct copy_ctx *c = ctx;
    struct id_map *m;
    HASH_FIND(hh, c->ids, &parent_id, sizeof parent_id, m);
    if (m) return m->child_id;
    m = malloc(sizeof *m);
    if (!m) { c->failed = 1; return 0; }
    m->parent_id = parent_id;
    m->child_id = keep_stack(c, parent_id);
    HASH_ADD(hh, c->ids, parent_id, sizeof m->parent_id, m);
    return m->child_id;
}

int ml_inherit_copy(struct ml_inherit *child, const struct ml_blocks *parent,
                    struct ml_stack_source src)
{
    ml_inherit_free(child);
    child->blocks = ml_blocks_clone(parent);
    if (!child->blocks) return -ENOMEM;
    struct copy_ctx c = {.inh = child, .src = src};
    ml_blocks_map_stacks(child->blocks, remap, &c);
    struct id_map *m, *tmp;
    HASH_ITER(hh, c.ids, m, tmp) {
        HASH_DEL(c.ids, m);
        free(m);
    }
    if (c.failed) {
        ml_inherit_free(child);
        return -ENOMEM;
    }
    return 0;
}

int ml_inherit_fds(struct ml_inherit *child, const struct ml_fd_table *parent,
                   struct ml_stack_source src)
{
    struct copy_ctx c = {.inh = child, .src = src, .cap = child->nstacks};
    for (size_t fd = 0; fd < parent->cap && !c.failed; fd++) {
        const struct ml_fd_rec *r = ml_fd_table_get(parent, (int)fd);
        if (!r) continue;
        uint32_t stack = r->stack ? keep_stack(&c, r->stack) : 0;
        if (ml_fd_table_open(&child->fds, (int)fd, r->fn, stack, r->seq)) c.failed = 1;
    }
    if (c.failed) {
        ml_fd_table_free(&child->fds);
        return -ENOMEM;
    }
    return 0;
}

const uint64_t *ml_inherit_frames(const struct ml_inherit *inh, uint32_t id, uint32_t *depth)
{
    uint32_t i = id & ~ML_INHERITED_BIT;
    if (!(id & ML_INHERITED_BIT) || i >= inh->nstacks) return NULL;
    *depth = inh->stacks[i].depth;
    return inh->stacks[i].frames;
}

void ml_inherit_free(struct ml_inherit *inh)
{
    ml_blocks_free(inh->blocks);
    for (size_t i = 0; i < inh->nstacks; i++) free(inh->stacks[i].frames);
    free(inh->stacks);
    ml_fd_table_free(&inh->fds);
    memset(inh, 0, sizeof *inh);
}
