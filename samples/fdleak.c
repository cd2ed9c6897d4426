/* fdleak.c - descriptors left open at exit (--track-fds=yes).
 *
 * Started with only 0, 1 and 2 open, it makes descriptors, each time the
 * lowest free number, and closes some:
 *   3  open("/dev/null")                       kept    file /dev/null, by open_null
 *   4  pipe() read end                         closed
 *   5  pipe() write end                        kept    pipe, by make_pipe
 *   4  socket(AF_INET, SOCK_STREAM) (reuses 4) kept    AF_INET socket, by make_socket
 *   6  dup(3)                                  kept    file /dev/null, by dup_null
 *   7  open("/dev/zero")                       closed
 *   7  socketpair(AF_UNIX) first end           kept    AF_UNIX socket, by make_pair
 *   8  socketpair(AF_UNIX) second end          closed
 *   8  fopen("/dev/null")                      fclose'd
 * Open at exit: 0, 1, 2 (std, not listed) and 3, 4, 5, 6, 7:
 * "FILE DESCRIPTORS: 8 open (3 std) at exit."
 *
 * `fdleak fork`: after that it forks; the child opens /dev/zero (fd 8, by
 * child_open) and exits, so the child has 9 open (3 std), 3-7 inherited from
 * the parent at the fork and 8 its own; the parent, which waits for it, is
 * unchanged (8 open).
 * `fdleak vfork`: instead, a vfork child closes fd 3 and _exits: its close
 * is not the parent's, whose set is unchanged (8 open, 3 made by open); the
 * child has 7 open (3 std): 4, 5, 6, 7.
 * `fdleak --expect [fork|vfork]` prints this as JSON, one object per process in
 * the order they start: fd -> [kind, path or family, opening function].
 */
#pragma GCC optimize("O0")
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void open_null(void)
{
    if (open("/dev/null", O_RDONLY) != 3) exit(2);
}

__attribute__((noinline)) static void make_pipe(void)
{
    int p[2];
    if (pipe(p) != 0 || p[0] != 4 || p[1] != 5) exit(2);
    close(p[0]);
}

__attribute__((noinline)) static void make_socket(void)
{
    if (socket(AF_INET, SOCK_STREAM, 0) != 4) exit(2);
}

__attribute__((noinline)) static void dup_null(void)
{
    if (dup(3) != 6) exit(2);
}

__attribute__((noinline)) static void open_and_close(void)
{
    int fd = open("/dev/zero", O_RDONLY);
    if (fd != 7) exit(2);
    close(fd);
}

__attribute__((noinline)) static void make_pair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || sv[0] != 7 || sv[1] != 8) exit(2);
    close(sv[1]);
}

__attribute__((noinline)) static void fopen_and_close(void)
{
    FILE *f = fopen("/dev/null", "r");
    if (!f || fileno(f) != 8) exit(2);
    fclose(f);
}

__attribute__((noinline)) static void child_open(void)
{
    if (open("/dev/zero", O_RDONLY) != 8) exit(2);
}

#define SET_FROM_4                                                      \
    "\"4\":[\"socket\",\"AF_INET\",\"socket\"],"                        \
    "\"5\":[\"pipe\",\"pipe\",\"pipe\"],"                               \
    "\"6\":[\"file\",\"/dev/null\",\"dup\"],"                           \
    "\"7\":[\"socket\",\"AF_UNIX\",\"socketpair\"]"
#define PARENT_SET "\"3\":[\"file\",\"/dev/null\",\"open\"]," SET_FROM_4

static int expect(int fork_too, int vfork_too)
{
    printf("{\"processes\":[{\"open\":8,\"std\":3,\"fds\":{" PARENT_SET "},"
           "\"functions\":{\"3\":\"open_null\",\"4\":\"make_socket\",\"5\":\"make_pipe\","
           "\"6\":\"dup_null\",\"7\":\"make_pair\"}}");
    if (fork_too)
        printf(",{\"open\":9,\"std\":3,\"fds\":{" PARENT_SET ","
               "\"8\":[\"file\",\"/dev/zero\",\"open\"]},\"functions\":{\"8\":\"child_open\"}}");
    if (vfork_too)
        printf(",{\"open\":7,\"std\":3,\"fds\":{" SET_FROM_4 "},\"functions\":{}}");
    printf("]}\n");
    return 0;
}

/* Wait for child pid; false unless it exited with 0. */
static int reaped(pid_t pid)
{
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[argc - 1] : "";
    int fork_too = strcmp(mode, "fork") == 0, vfork_too = strcmp(mode, "vfork") == 0;
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) return expect(fork_too, vfork_too);
    open_null();
    make_pipe();
    make_socket();
    dup_null();
    open_and_close();
    make_pair();
    fopen_and_close();
    if (fork_too) {
        pid_t pid = fork();
        if (pid == 0) {
            child_open();
            exit(0);
        }
        if (!reaped(pid)) return 3;
    }
    if (vfork_too) {
        pid_t pid = vfork();
        if (pid == 0) {
            close(3);
            _exit(0);
        }
        if (!reaped(pid)) return 3;
    }
    return 0;
}
