/* ownalloc.c - a program with an allocator of its own (a bump allocator
 * named malloc in the executable, which comes before any preloaded library).
 * memlens sees none of its allocations and must say so rather than report
 * "no leaks": it has no means to know.
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>
static char arena[1 << 20]; static size_t used;
void *malloc(size_t n) { void *p = arena + used; used += (n + 15) & ~15ul; return p; }
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b) { void *p = malloc(a * b); memset(p, 0, a * b); return p; }
void *realloc(void *p, size_t n) { void *q = malloc(n); if (p) memcpy(q, p, n); return q; }
int main(void) { volatile char *p = malloc(100); p[0] = 1; return 0; }
