/* shmclean.c - a SysV shared memory segment used and released properly.
 *
 * make_segment() creates a private segment of 20,000 bytes
 * (shmget(IPC_PRIVATE, 20000, IPC_CREAT | 0600)); use_segment() attaches
 * it, writes its first page and detaches it; remove_segment() marks it for
 * removal (shmctl IPC_RMID).  Nothing is left behind.
 *
 * Expected answer:
 *   shm: one SysV entry, key 0 (IPC_PRIVATE), size 20,000, detached,
 *        removed, not leaked; its stack names make_segment
 *   syscalls made by this program itself, lower bounds on the counts:
 *        shmget >= 1, shmat >= 1, shmdt >= 1, shmctl >= 1
 *   no mapping leak; no heap leak of any kind (it never calls malloc)
 *
 * `shmclean --expect` prints the same as JSON and exits before it does
 * anything else.  The measured run prints the segment's id on stderr,
 * "shmclean: shmid N", as its last act.
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

#define SEG_SIZE 20000

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[{\"kind\":\"sysv\",\"key\":0,\"size\":%d,"
           "\"detached\":true,\"removed\":true,\"leaked\":false,"
           "\"function\":\"make_segment\"}],"
           "\"mapping_leaks\":[],"
           "\"syscalls_at_least\":{\"shmget\":1,\"shmat\":1,\"shmdt\":1,"
           "\"shmctl\":1}}\n", SEG_SIZE);
    return 0;
}

int make_segment(void)
{
    return shmget(IPC_PRIVATE, SEG_SIZE, IPC_CREAT | 0600);
}

int use_segment(int id)
{
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1)
        return -1;
    memset(p, 's', 4096);
    return shmdt(p);
}

int remove_segment(int id)
{
    return shmctl(id, IPC_RMID, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();

    int id = make_segment();
    if (id < 0) {
        perror("shmclean: shmget");
        return 1;
    }
    int bad = use_segment(id) != 0;
    bad |= remove_segment(id) != 0;
    fprintf(stderr, "shmclean: shmid %d\n", id);
    return bad;
}
