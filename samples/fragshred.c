/* fragshred.c - small survivors shred the heap: external fragmentation near 1.
 *
 * pack_table() first allocates 64 blocks of 48 bytes, kept, side by side.
 * Then shred() calls, 2,048 times in a row, shred_keep() (a 64-byte block, kept)
 * and shred_temp() (a 4,000-byte block, freed later).  glibc lays their
 * chunks out back to back in the brk heap: 80 bytes (64 + 8, rounded up to
 * 16) then 4,016 bytes, so the pattern repeats every 80 + 4,016 = 4,096
 * bytes, exactly one page.  free_temps() then frees every 4,000-byte block:
 * each becomes a free chunk of 4,016 bytes held between two live 80-byte
 * chunks (too big for tcache and fastbins, and never next to another free
 * chunk, so nothing coalesces; only the last one joins the top chunk).
 *
 * Expected answer:
 *   live blocks     2,048 x 64 (shred_keep) + 64 x 48 (pack_table)
 *                   = 131,072 + 3,072 = 134,144 bytes, all still reachable
 *   free bytes      at least 2,047 gaps of 4,016 bytes = 8,220,752 bytes;
 *                   the largest gap is the top chunk (at most 128 KiB plus a
 *                   page and a chunk), so external fragmentation is at
 *                   least 1 - 140,000 / 8,220,752 > 0.98: at least 0.9
 *   culprit         a page is pinned by a site when that site's blocks are
 *                   its only live data and at least half of it is free
 *                   (DESIGN).  The heap starts with malloc's 656-byte
 *                   tcache chunk, then pack_table's 64 chunks of 64 bytes
 *                   (48 + 8 rounded up to 16): exactly 4,096 bytes, so the
 *                   first shred_keep chunk shares its page with the table's
 *                   last chunks (and page 0 holds the tcache): no page is
 *                   the table's alone, pack_table pins 0 pages.  Each of the
 *                   other 2,047 shred_keep chunks is the only live data of
 *                   its page, 80 bytes of 4,096: shred_keep pins exactly
 *                   2,047 resident pages (the blocks are written, so their
 *                   pages are resident) and is the only culprit
 *   trimmable       a 4,016-byte free chunk holds no whole page past its
 *                   48-byte header: malloc_trim(0) could return nothing of
 *                   the gaps, only of the top chunk
 *
 * mallopt(M_MMAP_THRESHOLD) pins the threshold at 1 MiB so that no block is
 * mmapped.  `fragshred --expect` prints the answer as JSON and exits before
 * it allocates anything; the measured run prints nothing but glibc's own
 * figures, last, to stderr (see mallinfo.h).
 */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mallinfo.h"

#define NPAIRS 2048
#define KEEP_SIZE 64
#define TEMP_SIZE 4000
#define NTABLE 64
#define TABLE_SIZE 48

char *g_keep[NPAIRS];           /* the survivors, still reachable */
char *g_temp[NPAIRS];
char *g_table[NTABLE];

char *shred_keep(void)
{
    char *p = malloc(KEEP_SIZE);
    memset(p, 'K', KEEP_SIZE);
    return p;
}

char *shred_temp(void)
{
    char *p = malloc(TEMP_SIZE);
    memset(p, 'T', TEMP_SIZE);
    return p;
}

void shred(void)
{
    for (int i = 0; i < NPAIRS; i++) {
        g_keep[i] = shred_keep();
        g_temp[i] = shred_temp();
    }
}

void free_temps(void)
{
    for (int i = 0; i < NPAIRS; i++) {
        free(g_temp[i]);
        g_temp[i] = NULL;
    }
}

void pack_table(void)
{
    for (int i = 0; i < NTABLE; i++) {
        g_table[i] = malloc(TABLE_SIZE);
        memset(g_table[i], 'P', TABLE_SIZE);
    }
}

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":%d,\"bytes\":%d},"
           "\"culprit_function\":\"shred_keep\",\"culprit_live_bytes\":%d,"
           "\"culprit_pinned_pages_at_least\":2000,\"culprit_pinned_pages\":%d,"
           "\"table_pinned_pages\":0,"
           "\"free_bytes_at_least\":%d,"
           "\"external_fragmentation_at_least\":0.9,"
           "\"exit_code\":0}\n",
           NPAIRS + NTABLE, NPAIRS * KEEP_SIZE + NTABLE * TABLE_SIZE,
           NPAIRS * KEEP_SIZE, NPAIRS - 1, (NPAIRS - 1) * 4016);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    pack_table();
    shred();
    free_temps();
    print_mallinfo();
    return 0;
}
