/* strpool.c - the string set: open addressing on a string hash, linear
 * probing, no deletion; the table doubles at half full. */
#include "strpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MEMO 1024    /* recent answers by the caller's pointer; a power of two */

struct ml_strpool {
    char **slot;      /* NULL: empty */
    size_t mask;      /* capacity - 1, a power of two */
    size_t count;
    /* The callers ask for the same few strings at the same addresses (the
     * symbolizer's own copies) tens of millions of times: a recent answer for
     * that address whose text still matches saves hashing the string. */
    struct { const char *from; char *copy; } memo[MEMO];
};

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;      /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32));
}

struct ml_strpool *ml_strpool_new(void)
{
    struct ml_strpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->mask = 63;
    p->slot = calloc(p->mask + 1, sizeof *p->slot);
    if (!p->slot) {
        free(p);
        return NULL;
    }
    return p;
}

void ml_strpool_free(struct ml_strpool *p)
{
    if (!p) return;
    for (size_t i = 0; i <= p->mask; i++) free(p->slot[i]);
    free(p->slot);
    free(p);
}

static size_t find(const struct ml_strpool *p, const char *s)
{
    size_t i = hash_str(s) & p->mask;
    while (p->slot[i] && strcmp(p->slot[i], s) != 0) i = (i + 1) & p->mask;
    return i;
}

static int grow(struct ml_strpool *p)
{
    struct ml_strpool bigger = {.mask = p->mask * 2 + 1, .count = p->count};
    bigger.slot = calloc(bigger.mask + 1, sizeof *bigger.slot);
    if (!bigger.slot) return -1;
    for (size_t i = 0; i <= p->mask; i++)
        if (p->slot[i]) bigger.slot[find(&bigger, p->slot[i])] = p->slot[i];
    free(p->slot);
    *p = bigger;
    return 0;
}

static char *lookup(struct ml_strpool *p, const char *s)
{
    size_t i = find(p, s);
    if (p->slot[i]) return p->slot[i];
    if ((p->count + 1) * 2 > p->mask + 1) {
        if (grow(p) != 0) return NULL;
        i = find(p, s);
    }
    if (!(p->slot[i] = strdup(s))) return NULL;
    p->count++;
    return p->slot[i];
}

char *ml_strpool_get(struct ml_strpool *p, const char *s)
{
    if (!s) return NULL;
    size_t m = (size_t)(((uintptr_t)s * 0x9E3779B97F4A7C15ull) >> 54) & (MEMO - 1);
    if (p->memo[m].from == s && strcmp(p->memo[m].copy, s) == 0) return p->memo[m].copy;
    char *copy = lookup(p, s);
    if (copy) {
        p->memo[m].from = s;
        p->memo[m].copy = copy;
    }
    return copy;
}
