/* shmattached.c - a SysV segment still attached at exit, never removed.
 *
 * attach_forever() creates a private segment of 50,000 bytes
 * (shmget(IPC_PRIVATE, 50000, IPC_CREAT | 0600)), attaches it and writes
 * its first two pages.  It is neither detached nor removed: the kernel
 * detaches it when the process exits, but the segment itself stays in the
 * system (see `ipcs -m`).
 *
 * Expected answer:
 *   shm: one SysV entry, key 0 (IPC_PRIVATE), size 50,000, attached at the
 *        address printed on stderr, not detached, not removed, leaked; its
 *        stack names attach_forever
 *   regions: at that address a region of kind "shm" of 53,248 bytes (the
 *        size rounded up to pages), 8,192 of them resident, origin "shmat"
 *   syscalls made by this program itself, lower bounds on the counts:
 *        shmget >= 1, shmat >= 1
 *   no mapping leak; no heap leak of any kind (it never calls malloc)
 *
 * `shmattached --expect` prints the same as JSON and exits before it does
 * anything else.  The measured run prints, as its last act, on stderr,
 * "shmattached: shmid N at 0xADDR", so that whoever runs it can remove the
 * segment (ipcrm -m N).
 */

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define SEG_SIZE 50000
#define SEG_PAGES_BYTES 53248       /* SEG_SIZE rounded up to 4 KiB pages */
#define TOUCHED_BYTES 8192

static int g_shmid = -1;
static char *g_addr;

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[{\"kind\":\"sysv\",\"key\":0,\"size\":%d,"
           "\"detached\":false,\"removed\":false,\"leaked\":true,"
           "\"function\":\"attach_forever\"}],"
           "\"region\":{\"kind\":\"shm\",\"size\":%d,\"resident\":%d,"
           "\"origin\":\"shmat\"},"
           "\"mapping_leaks\":[],"
           "\"syscalls_at_least\":{\"shmget\":1,\"shmat\":1}}\n",
           SEG_SIZE, SEG_PAGES_BYTES, TOUCHED_BYTES);
    return 0;
}

int attach_forever(void)
{
    g_shmid = shmget(IPC_PRIVATE, SEG_SIZE, IPC_CREAT | 0600);
    if (g_shmid < 0)
        return -1;
    char *p = shmat(g_shmid, NULL, 0);
    if (p == (void *)-1)
        return -1;
    memset(p, 'a', TOUCHED_BYTES);
    g_addr = p;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();

    int bad = attach_forever() != 0;
    if (bad)
        perror("shmattached");
    fprintf(stderr, "shmattached: shmid %d at %p\n", g_shmid, (void *)g_addr);
    return bad;
}
