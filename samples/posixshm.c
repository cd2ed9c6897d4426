/* posixshm.c - POSIX shared memory: one object left behind, one cleaned up.
 *
 * NAME is the first argument (default "/memlens-posixshm"); the objects
 * live in /dev/shm.
 * - leave_object() creates NAME (shm_open O_CREAT|O_EXCL), sizes it to
 *   40,960 bytes, maps it MAP_SHARED, writes its first three pages and
 *   closes the descriptor.  It stays mapped until exit and is never
 *   shm_unlink'ed: /dev/shm/NAME outlives the process (a leak).
 * - clean_object() creates NAME-tmp, sizes it to 24,576 bytes, maps it,
 *   writes it, unmaps it and shm_unlinks it: nothing is left.
 *
 * Expected answer:
 *   shm: a POSIX entry /dev/shm/NAME, not removed, leaked; a POSIX entry
 *        /dev/shm/NAME-tmp, removed, not leaked
 *   regions: a region of kind "shm", path /dev/shm/NAME, 40,960 bytes,
 *        12,288 of them resident, origin "mmap"; none for NAME-tmp
 *   syscalls made by this program itself, lower bounds on the counts:
 *        mmap >= 2, munmap >= 1
 *   no mapping leak (shared file mappings are not anonymous); no heap leak
 *   of any kind (it never calls malloc)
 *
 * `posixshm --expect [NAME]` prints the same as JSON and exits before it
 * does anything else.  The measured run prints nothing unless it fails;
 * it exits 1 without creating anything when NAME already exists.  Whoever
 * runs it removes /dev/shm/NAME afterwards.
 */

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEFT_SIZE 40960
#define LEFT_TOUCHED 12288
#define CLEAN_SIZE 24576
#define DEFAULT_NAME "/memlens-posixshm"

static char *g_left;            /* the mapping that stays until exit */
static char g_tmp_name[256];

static int print_expect(const char *name)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[{\"kind\":\"posix\",\"path\":\"/dev/shm%s\","
           "\"removed\":false,\"leaked\":true},"
           "{\"kind\":\"posix\",\"path\":\"/dev/shm%s-tmp\","
           "\"removed\":true,\"leaked\":false}],"
           "\"region\":{\"kind\":\"shm\",\"path\":\"/dev/shm%s\",\"size\":%d,"
           "\"resident\":%d,\"origin\":\"mmap\"},"
           "\"mapping_leaks\":[],"
           "\"syscalls_at_least\":{\"mmap\":2,\"munmap\":1}}\n",
           name, name, name, LEFT_SIZE, LEFT_TOUCHED);
    return 0;
}

static char *map_object(const char *name, size_t size)
{
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0)
        return NULL;
    char *p = NULL;
    if (ftruncate(fd, (off_t)size) == 0) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            p = NULL;
    }
    close(fd);
    return p;
}

int leave_object(const char *name)
{
    g_left = map_object(name, LEFT_SIZE);
    if (!g_left)
        return -1;
    memset(g_left, 'p', LEFT_TOUCHED);
    return 0;
}

int clean_object(const char *name)
{
    snprintf(g_tmp_name, sizeof g_tmp_name, "%s-tmp", name);
    char *p = map_object(g_tmp_name, CLEAN_SIZE);
    if (!p)
        return -1;
    memset(p, 'c', CLEAN_SIZE);
    int rc = munmap(p, CLEAN_SIZE);
    return shm_unlink(g_tmp_name) | rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect(argc > 2 ? argv[2] : DEFAULT_NAME);

    const char *name = argc > 1 ? argv[1] : DEFAULT_NAME;
    if (leave_object(name) != 0) {
        perror("posixshm: leave_object");
        return 1;
    }
    if (clean_object(name) != 0) {
        perror("posixshm: clean_object");
        return 1;
    }
    return 0;
}
