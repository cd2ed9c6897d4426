/* mallinfo.h - glibc's own account of the heap, printed for comparison.
 *
 * print_mallinfo() writes one line of JSON to stderr, for example
 *   {"mallinfo2":{"arena":8523776,"fordblks":4265904,"uordblks":4257872,
 *    "hblks":0,"hblkhd":0,"keepcost":135200},"heap_rss":8523776}
 * - mallinfo2(): arena = bytes malloc got from the system for its arenas
 *   (the brk heap plus every arena heap; mmapped chunks are hblkhd),
 *   fordblks = bytes in free chunks, the top chunks included (tcache
 *   entries count as in use);
 * - heap_rss: the "Rss:" of [heap] in /proc/self/smaps, in bytes (-1 when
 *   there is no [heap]).
 * memlens's heap figures for the same moment: extent_bytes and free_bytes
 * summed over the non-mmapped parts, and the main heap's resident_bytes.
 *
 * Call it last: nothing the program does after it may allocate or free.
 * It allocates nothing itself (stderr is unbuffered, smaps is read with
 * read(2) into a static buffer), so the heap it describes is the heap that
 * memlens sees at exit.
 */
#ifndef SAMPLES_MALLINFO_H
#define SAMPLES_MALLINFO_H

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char smaps_text[1 << 20];

/* Rss of [heap] in bytes, from /proc/self/smaps; -1 when not found. */
static long long heap_rss(void)
{
    int fd = open("/proc/self/smaps", O_RDONLY);
    size_t len = 0;
    ssize_t got;
    if (fd < 0)
        return -1;
    while (len + 1 < sizeof smaps_text &&
           (got = read(fd, smaps_text + len, sizeof smaps_text - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    smaps_text[len] = '\0';
    char *heap = strstr(smaps_text, "[heap]\n");
    char *rss = heap ? strstr(heap, "\nRss:") : NULL;
    return rss ? strtoll(rss + 5, NULL, 10) * 1024 : -1;
}

static void print_mallinfo(void)
{
    struct mallinfo2 mi = mallinfo2();
    long long rss = heap_rss();
    fprintf(stderr, "{\"mallinfo2\":{\"arena\":%zu,\"fordblks\":%zu,\"uordblks\":%zu,"
                    "\"hblks\":%zu,\"hblkhd\":%zu,\"keepcost\":%zu},\"heap_rss\":%lld}\n",
            mi.arena, mi.fordblks, mi.uordblks, mi.hblks, mi.hblkhd, mi.keepcost, rss);
}

#endif
