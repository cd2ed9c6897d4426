/* leaky.c - one block or more of every memcheck leak kind, with known sizes.
 *
 * Expected answer (valgrind --leak-check=full --run-libc-freeres=no agrees):
 *
 *   kind              blocks  bytes   made by
 *   definitely lost        5    624   leak_definite    malloc(48)
 *                                     leak_calloc      calloc(5, 16) = 80
 *                                     leak_realloc     realloc(malloc(16), 208)
 *                                     leak_memalign    posix_memalign(64, 256)
 *                                     leak_owner       malloc(32), struct owner
 *   indirectly lost        2    256   make_child (from leak_owner): 112 + 144,
 *                                     reachable only through the lost owner
 *   possibly lost          1    128   keep_interior    calloc(1, 128), only
 *                                     g_interior = block + 32 remains
 *   still reachable        5    432   keep_global      malloc(160) in g_global
 *                                     keep_in_static   malloc(176) in a static
 *                                     keep_list        3 x 32-byte nodes,
 *                                                      head in g_list
 *   freed                  9   1708   free_normally    all released
 *
 *   valgrind's HEAP SUMMARY: 23 allocs, 10 frees, 3,164 bytes allocated
 *   (the tenth free is the 16-byte block that leak_realloc's realloc moved)
 *
 *   definite functions: leak_definite leak_calloc leak_realloc leak_memalign
 *                       leak_owner
 *
 * `leaky --expect` prints the same figures as JSON and exits before it
 * allocates anything.  The measured run prints nothing: the first printf to
 * stdout would allocate a stdio buffer, a still reachable block of 1024 or
 * 4096 bytes depending on what stdout is.
 *
 * Rules that keep the answer exact:
 * - every pointer that must keep a block alive lives in a global (or a
 *   static), never in a local of a function that may or may not have been
 *   overwritten by the time the process exits;
 * - scrub_stack() overwrites the stack below main after the leaks, so no
 *   stale copy of a lost pointer survives in the dead frames of the leak
 *   functions, of malloc or of an interposed allocator;
 * - every lost block's size is a multiple of 16, so that no pointer that
 *   glibc's allocator keeps to a neighbouring chunk header can fall inside
 *   a lost block and make it look possibly lost.
 */

/* The answer above depends on every allocation and every named frame being
 * there as written: keep -O0 and no inlining even when the build's CFLAGS
 * (which automake places after the per-target flags) say -O2. */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct owner {                  /* 32 bytes */
    char *first;
    char *second;
    long tag;
    long spare;
};

struct node {                   /* 32 bytes */
    struct node *next;
    long value[3];
};

char *g_global;                 /* start pointer: still reachable */
char *g_interior;               /* interior pointer only: possibly lost */
struct node *g_list;            /* head of a reachable list */

/* Where a lost pointer is let go. */
static void drop(void *p)
{
    (void)p;
}

static void fill(void *p, int c, size_t n)
{
    memset(p, c, n);
}

void leak_definite(void)
{
    char *p = malloc(48);
    fill(p, 'd', 48);
    drop(p);
}

void leak_calloc(void)
{
    char *p = calloc(5, 16);
    drop(p);
}

void leak_realloc(void)
{
    char *p = malloc(16);
    fill(p, 'r', 16);
    p = realloc(p, 208);
    fill(p, 'R', 208);
    drop(p);
}

void leak_memalign(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 256) != 0)
        abort();
    fill(p, 'm', 256);
    drop(p);
}

char *make_child(size_t size)
{
    char *p = malloc(size);
    fill(p, 'c', size);
    return p;
}

void leak_owner(void)
{
    struct owner *o = malloc(sizeof *o);
    o->first = make_child(112);
    o->second = make_child(144);
    o->tag = 0x0123;
    o->spare = 0;
    drop(o);
}

void keep_interior(void)
{
    char *p = calloc(1, 128);   /* zeroed: no valgrind heuristic applies */
    g_interior = p + 32;
}

void keep_global(void)
{
    g_global = malloc(160);
    fill(g_global, 'g', 160);
}

void keep_in_static(void)
{
    static char *kept;
    kept = malloc(176);
    fill(kept, 's', 176);
}

void keep_list(void)
{
    for (int i = 0; i < 3; i++) {
        struct node *n = malloc(sizeof *n);
        n->next = g_list;
        n->value[0] = n->value[1] = n->value[2] = i;
        g_list = n;
    }
}

void free_normally(void)
{
    static const size_t sizes[] = { 16, 64, 100, 1000, 8 };
    char *p[5];

    for (int i = 0; i < 5; i++) {
        p[i] = malloc(sizes[i]);
        fill(p[i], 'f', sizes[i]);
    }
    for (int i = 4; i >= 0; i--)
        free(p[i]);

    char *z = calloc(3, 8);     /* 24 */
    free(z);
    char *r = malloc(32);
    r = realloc(r, 400);        /* the realloc frees the 32-byte block */
    free(r);
    void *a = aligned_alloc(32, 64);
    free(a);
}

/* Overwrite the dead stack below the caller (and the registers that
 * memset uses) so that only the globals decide what is reachable. */
void scrub_stack(void)
{
    volatile char area[64 * 1024];
    memset((char *)area, 0, sizeof area);
}

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":5,\"bytes\":624},"
           "\"indirect\":{\"blocks\":2,\"bytes\":256},"
           "\"possible\":{\"blocks\":1,\"bytes\":128},"
           "\"reachable\":{\"blocks\":5,\"bytes\":432},"
           "\"definite_functions\":[\"leak_definite\",\"leak_calloc\","
           "\"leak_realloc\",\"leak_memalign\",\"leak_owner\"],"
           "\"exit_code\":0}\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();

    free_normally();
    leak_definite();
    leak_calloc();
    leak_realloc();
    leak_memalign();
    leak_owner();
    keep_interior();
    keep_global();
    keep_in_static();
    keep_list();
    scrub_stack();
    return 0;
}
