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
 * `fdleak kinds`: instead, one descriptor of each other kind, none closed:
 *   3 openat /dev/null, 4 and 5 pipe2, 6 eventfd, 7 memfd_create
 *   ("/memfd:fdleak (deleted)"), 8 epoll_create1, 9 inotify_init1,
 *   10 signalfd, 11 timerfd_create, 12 fcntl(3, F_DUPFD_CLOEXEC), 13 dup3(3),
 *   20 dup2(3), 14 a listening AF_INET socket, 15 a socket connected to it,
 *   16 accept4 of that connection, 17 tmpfile, 18 opendir("/"), 19 mkstemp,
 *   21 shm_open, 22 posix_openpt (the files unlinked again):
 *   23 open (3 std).
 * `fdleak closefrom`: after the first sequence, closefrom(6) closes 6 and
 * 7, and a raw openat system call (which no library call sees) gets 6 for
 * /dev/zero: its opener is unknown, not 6's former dup.  7 open (3 std).
 * `fdleak --expect [fork|vfork|kinds|closefrom]` prints this as JSON, one object per process in
 * the order they start: fd -> [kind, path or family, opening function].
 */
#pragma GCC optimize("O0")
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
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

/* Each call must return fd `want`, or the sample fails (exit 2). */
static void must(int got, int want)
{
    if (got != want) exit(2);
}

/* 14 listens on 127.0.0.1, 15 connects to it, 16 is the accepted end. */
__attribute__((noinline)) static void make_connection(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    must(socket(AF_INET, SOCK_STREAM, 0), 14);
    if (bind(14, (struct sockaddr *)&a, sizeof a) || listen(14, 1) ||
        getsockname(14, (struct sockaddr *)&a, &len))
        exit(2);
    must(socket(AF_INET, SOCK_STREAM, 0), 15);
    if (connect(15, (struct sockaddr *)&a, sizeof a)) exit(2);
    must(accept4(14, NULL, NULL, SOCK_CLOEXEC), 16);
}

__attribute__((noinline)) static void make_kinds(void)
{
    int p[2];
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    must(openat(AT_FDCWD, "/dev/null", O_RDONLY), 3);
    if (pipe2(p, O_CLOEXEC) != 0 || p[0] != 4 || p[1] != 5) exit(2);
    must(eventfd(0, 0), 6);
    must(memfd_create("fdleak", 0), 7);
    must(epoll_create1(0), 8);
    must(inotify_init1(0), 9);
    must(signalfd(-1, &mask, 0), 10);
    must(timerfd_create(CLOCK_MONOTONIC, 0), 11);
    must(fcntl(3, F_DUPFD_CLOEXEC, 12), 12);
    must(dup3(3, 13, O_CLOEXEC), 13);
    must(dup2(3, 20), 20);
    make_connection();
    FILE *t = tmpfile();
    if (!t) exit(2);
    must(fileno(t), 17);
    DIR *d = opendir("/");
    if (!d) exit(2);
    must(dirfd(d), 18);
    char tmpl[] = "/tmp/fdleakXXXXXX", shm[64];
    must(mkstemp(tmpl), 19);
    unlink(tmpl);
    snprintf(shm, sizeof shm, "/fdleak-%d", (int)getpid());
    must(shm_open(shm, O_RDWR | O_CREAT | O_EXCL, 0600), 21);
    shm_unlink(shm);
    must(posix_openpt(O_RDWR | O_NOCTTY), 22);
}

#define KINDS_SET                                                                     \
    "\"3\":[\"file\",\"/dev/null\",\"openat\"],\"4\":[\"pipe\",\"\",\"pipe2\"],"             \
    "\"5\":[\"pipe\",\"\",\"pipe2\"],\"6\":[\"anon\",\"anon_inode:[eventfd]\",\"eventfd\"]," \
    "\"7\":[\"file\",\"/memfd:fdleak (deleted)\",\"memfd_create\"],"                      \
    "\"8\":[\"anon\",\"anon_inode:[eventpoll]\",\"epoll_create1\"],"                      \
    "\"9\":[\"anon\",\"anon_inode:inotify\",\"inotify_init1\"],"                          \
    "\"10\":[\"anon\",\"anon_inode:[signalfd]\",\"signalfd\"],"                           \
    "\"11\":[\"anon\",\"anon_inode:[timerfd]\",\"timerfd_create\"],"                      \
    "\"12\":[\"file\",\"/dev/null\",\"fcntl\"],\"13\":[\"file\",\"/dev/null\",\"dup3\"],"   \
    "\"20\":[\"file\",\"/dev/null\",\"dup2\"],\"14\":[\"socket\",\"AF_INET\",\"socket\"],"  \
    "\"15\":[\"socket\",\"AF_INET\",\"socket\"],\"16\":[\"socket\",\"AF_INET\",\"accept4\"]," \
    "\"17\":[\"file\",\"\",\"tmpfile\"],\"18\":[\"file\",\"/\",\"opendir\"],"              \
    "\"19\":[\"file\",\"\",\"mkstemp\"],\"21\":[\"file\",\"\",\"shm_open\"],"                \
    "\"22\":[\"file\",\"\",\"posix_openpt\"]"

#define SET_FROM_4                                                      \
    "\"4\":[\"socket\",\"AF_INET\",\"socket\"],"                        \
    "\"5\":[\"pipe\",\"pipe\",\"pipe\"],"                               \
    "\"6\":[\"file\",\"/dev/null\",\"dup\"],"                           \
    "\"7\":[\"socket\",\"AF_UNIX\",\"socketpair\"]"
#define PARENT_SET "\"3\":[\"file\",\"/dev/null\",\"open\"]," SET_FROM_4

static int expect(int fork_too, int vfork_too, int kinds, int closefrom_too)
{
    if (closefrom_too) {
        printf("{\"processes\":[{\"open\":7,\"std\":3,\"fds\":{"
               "\"3\":[\"file\",\"/dev/null\",\"open\"],\"4\":[\"socket\",\"AF_INET\",\"socket\"],"
               "\"5\":[\"pipe\",\"pipe\",\"pipe\"],\"6\":[\"file\",\"/dev/zero\",null]},"
               "\"functions\":{\"3\":\"open_null\"}}]}\n");
        return 0;
    }
    if (kinds) {
        printf("{\"processes\":[{\"open\":23,\"std\":3,\"fds\":{" KINDS_SET "},"
               "\"functions\":{\"3\":\"make_kinds\",\"14\":\"make_connection\","
               "\"16\":\"make_connection\",\"18\":\"make_kinds\"}}]}\n");
        return 0;
    }
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
    int kinds = strcmp(mode, "kinds") == 0, closefrom_too = strcmp(mode, "closefrom") == 0;
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return expect(fork_too, vfork_too, kinds, closefrom_too);
    if (kinds) {
        make_kinds();
        return 0;
    }
    open_null();
    make_pipe();
    make_socket();
    dup_null();
    open_and_close();
    make_pair();
    fopen_and_close();
    if (closefrom_too) {
        closefrom(6);
        must((int)syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY), 6);
    }
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
