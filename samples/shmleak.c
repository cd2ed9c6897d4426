/* shmleak.c - a SysV segment detached but never removed: it outlives us.
 *
 * create_segment() creates a segment of 30,000 bytes with the key KEY
 * (shmget(KEY, 30000, IPC_CREAT | IPC_EXCL | 0600)); fill_segment()
 * attaches it, writes its first two pages and detaches it.  Nobody calls
 * shmctl(IPC_RMID): the segment stays in the system after the process
 * exits (see `ipcs -m`), which is a leak of its own kind.
 *
 * KEY is the first argument, a number in any base strtol accepts
 * (default 0x4d4c5302); `shmleak --expect [KEY]` states it.
 *
 * Expected answer:
 *   shm: one SysV entry, key KEY, size 30,000, detached, not removed,
 *        leaked; its stack names create_segment
 *   syscalls made by this program itself, lower bounds on the counts:
 *        shmget >= 1, shmat >= 1, shmdt >= 1
 *   no mapping leak; no heap leak of any kind (it never calls malloc)
 *
 * The measured run prints the segment's id on stderr, "shmleak: shmid N",
 * as its last act, so that whoever runs it can remove the segment
 * (ipcrm -m N).  It exits 1 without creating anything when a segment with
 * KEY already exists.
 */

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define SEG_SIZE 30000
#define DEFAULT_KEY 0x4d4c5302

static key_t key_arg(int argc, char **argv, int first)
{
    return argc > first ? (key_t)strtol(argv[first], NULL, 0) : (key_t)DEFAULT_KEY;
}

static int print_expect(key_t key)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[{\"kind\":\"sysv\",\"key\":%d,\"size\":%d,"
           "\"detached\":true,\"removed\":false,\"leaked\":true,"
           "\"function\":\"create_segment\"}],"
           "\"mapping_leaks\":[],"
           "\"syscalls_at_least\":{\"shmget\":1,\"shmat\":1,\"shmdt\":1}}\n",
           (int)key, SEG_SIZE);
    return 0;
}

int create_segment(key_t key)
{
    return shmget(key, SEG_SIZE, IPC_CREAT | IPC_EXCL | 0600);
}

int fill_segment(int id)
{
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1)
        return -1;
    memset(p, 'l', 2 * 4096);
    return shmdt(p);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect(key_arg(argc, argv, 2));

    int id = create_segment(key_arg(argc, argv, 1));
    if (id < 0) {
        perror("shmleak: shmget");
        return 1;
    }
    int bad = fill_segment(id) != 0;
    fprintf(stderr, "shmleak: shmid %d\n", id);
    return bad;
}
