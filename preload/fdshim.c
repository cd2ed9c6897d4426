/* fdshim.c - the descriptor interposers of libmemlens.so (--track-fds=yes).
 *
 * Exports the calls that make a descriptor (open, openat, creat, socket,
 * socketpair, accept, accept4, pipe, pipe2, dup, dup2, dup3, fcntl's
 * F_DUPFD and F_DUPFD_CLOEXEC, eventfd, memfd_create, epoll_create,
 * epoll_create1, inotify_init, inotify_init1, signalfd, timerfd_create, and
 * the calls whose opens glibc makes internally: fopen, freopen, tmpfile,
 * opendir, popen, mkstemp and its kin, shm_open, posix_openpt) and those that
 * release some (close, close_range, closefrom, fclose, closedir, pclose).
 * Each calls the real function found with dlsym(RTLD_NEXT) on first use and,
 * only when the tracer asked for descriptors (ml_fds_on), reports the new
 * descriptor after a successful call, with its stack, or the release before
 * the call (so that a number reused at once by another thread is never seen
 * open twice).  With --track-fds=no the cost is one flag test per call.
 *
 * The tracer reads what each descriptor is at exit; the shim only says who
 * made it.  Owns the table of real descriptor functions.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#undef _FORTIFY_SOURCE   /* its inline open/openat would clash with ours */
#include "shim.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>

#include "memlens/session.h"
#include "record.h"

/* The real `name`, looked up once; dlsym's own allocations are not the
 * program's, so the guard is held around it. */
static void *real_fn(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (ML_LIKELY(f != NULL))
        return f;
    int err = errno;
    bool taken = ml_guard_take();
    f = dlsym(RTLD_NEXT, name);
    if (taken)
        ml_guard_release();
    errno = err;
    if (!f) {
        static const char msg[] = "memlens: cannot find a real descriptor function\n";
        (void)!write(2, msg, sizeof(msg) - 1);
        abort();
    }
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    return f;
}

/* REAL(type, name): the real function `name` as a pointer of type `type`. */
#define REAL(type, name) \
    ({ static void *slot_; (type)real_fn(&slot_, #name); })

/* Report an event about fd; one made inside the shim is memlens's own. */
static void note(unsigned type, int fd, unsigned fn)
{
    if (!ml_guard_take()) {
        ml_rec_own_fd(type, fd);
        return;
    }
    if (ml_rec_on() && ml_fds_on == 1)
        ml_rec_fd(type, fd, fn);
    ml_guard_release();
}

/* A call that returned fd (negative: failed). */
static inline int opened(int fd, unsigned fn)
{
    if (ML_UNLIKELY(ml_fds_on) && fd >= 0)
        note(ML_EV_FD_OPEN, fd, fn);
    return fd;
}

/* fds[0] and fds[1] after a call that returned rc. */
static inline int opened_pair(int rc, const int fds[2], unsigned fn)
{
    if (ML_UNLIKELY(ml_fds_on) && rc == 0) {
        note(ML_EV_FD_OPEN, fds[0], fn);
        note(ML_EV_FD_OPEN, fds[1], fn);
    }
    return rc;
}

static inline void closing(int fd)
{
    if (ML_UNLIKELY(ml_fds_on) && fd >= 0)
        note(ML_EV_FD_CLOSE, fd, 0);
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, mode)                                         \
    do {                                                              \
        if (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE) {                      \
            va_list ap;                                               \
            va_start(ap, flags);                                      \
            mode = (mode_t)va_arg(ap, int);                           \
            va_end(ap);                                               \
        }                                                             \
    } while (0)

typedef int (*open_t)(const char *, int, ...);
typedef int (*openat_t)(int, const char *, int, ...);

ML_EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return opened(REAL(open_t, open)(path, flags, mode), ML_FD_OPEN);
}

ML_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return opened(REAL(open_t, open64)(path, flags, mode), ML_FD_OPEN);
}

ML_EXPORT int openat(int dir, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return opened(REAL(openat_t, openat)(dir, path, flags, mode), ML_FD_OPENAT);
}

ML_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return opened(REAL(openat_t, openat64)(dir, path, flags, mode), ML_FD_OPENAT);
}

/* What _FORTIFY_SOURCE makes of open and openat. */
ML_EXPORT int __open_2(const char *path, int flags)
{
    return opened(REAL(int (*)(const char *, int), __open_2)(path, flags), ML_FD_OPEN);
}

ML_EXPORT int __open64_2(const char *path, int flags)
{
    return opened(REAL(int (*)(const char *, int), __open64_2)(path, flags), ML_FD_OPEN);
}

ML_EXPORT int __openat_2(int dir, const char *path, int flags)
{
    return opened(REAL(int (*)(int, const char *, int), __openat_2)(dir, path, flags),
                  ML_FD_OPENAT);
}

ML_EXPORT int __openat64_2(int dir, const char *path, int flags)
{
    return opened(REAL(int (*)(int, const char *, int), __openat64_2)(dir, path, flags),
                  ML_FD_OPENAT);
}

ML_EXPORT int creat(const char *path, mode_t mode)
{
    return opened(REAL(int (*)(const char *, mode_t), creat)(path, mode), ML_FD_CREAT);
}

ML_EXPORT int creat64(const char *path, mode_t mode)
{
    return opened(REAL(int (*)(const char *, mode_t), creat64)(path, mode), ML_FD_CREAT);
}

ML_EXPORT int socket(int domain, int type, int proto)
{
    return opened(REAL(int (*)(int, int, int), socket)(domain, type, proto), ML_FD_SOCKET);
}

ML_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
    int rc = REAL(int (*)(int, int, int, int *), socketpair)(domain, type, proto, sv);
    return opened_pair(rc, sv, ML_FD_SOCKETPAIR);
}

ML_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    typedef int (*accept_t)(int, __SOCKADDR_ARG, socklen_t *);
    return opened(REAL(accept_t, accept)(fd, addr, len), ML_FD_ACCEPT);
}

ML_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
    typedef int (*accept4_t)(int, __SOCKADDR_ARG, socklen_t *, int);
    return opened(REAL(accept4_t, accept4)(fd, addr, len, flags), ML_FD_ACCEPT4);
}

/* Lowest number for the shim's own descriptors: high, so that the program
 * gets the numbers it gets natively (valgrind keeps its own up there too). */
static int own_floor(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 128)
        return -1;
    return (int)((rl.rlim_cur < 1024 ? rl.rlim_cur : 1024) - 32);
}

/* A pipe made inside the shim (libunwind's, which it uses to test
 * addresses): moved to high numbers, close-on-exec, before its maker
 * stores them.  Any other pipe is the program's. */
static int pipe_done(int rc, int fds[2], unsigned fn)
{
    if (rc != 0 || ml_guard_take()) {
        if (rc == 0)
            ml_guard_release();
        return opened_pair(rc, fds, fn);
    }
    int floor = own_floor();
    for (int i = 0; i < 2 && floor > 0; i++) {
        int high = (int)syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, floor);
        if (high < 0)
            continue;
        syscall(SYS_close, fds[i]);
        fds[i] = high;
    }
    return opened_pair(rc, fds, fn);   /* noted as the shim's own */
}

ML_EXPORT int pipe(int fds[2])
{
    return pipe_done(REAL(int (*)(int *), pipe)(fds), fds, ML_FD_PIPE);
}

ML_EXPORT int pipe2(int fds[2], int flags)
{
    return pipe_done(REAL(int (*)(int *, int), pipe2)(fds, flags), fds, ML_FD_PIPE2);
}

ML_EXPORT int dup(int fd)
{
    return opened(REAL(int (*)(int), dup)(fd), ML_FD_DUP);
}

/* dup2 and dup3 close `to` first: the new open supersedes its record. */
ML_EXPORT int dup2(int fd, int to)
{
    return opened(REAL(int (*)(int, int), dup2)(fd, to), ML_FD_DUP2);
}

ML_EXPORT int dup3(int fd, int to, int flags)
{
    return opened(REAL(int (*)(int, int, int), dup3)(fd, to, flags), ML_FD_DUP3);
}

/* Every fcntl argument is passed in an integer register on x86-64: one
 * long carries ints and pointers alike. */
static int fcntl_common(void *real, int fd, int cmd, long arg)
{
    int rc = ((int (*)(int, int, long))real)(fd, cmd, arg);
    return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? opened(rc, ML_FD_FCNTL) : rc;
}

ML_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl_common(REAL(void *, fcntl), fd, cmd, arg);
}

ML_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl_common(REAL(void *, fcntl64), fd, cmd, arg);
}

ML_EXPORT int eventfd(unsigned int count, int flags)
{
    return opened(REAL(int (*)(unsigned, int), eventfd)(count, flags), ML_FD_EVENTFD);
}

ML_EXPORT int memfd_create(const char *name, unsigned int flags)
{
    typedef int (*memfd_t)(const char *, unsigned);
    return opened(REAL(memfd_t, memfd_create)(name, flags), ML_FD_MEMFD_CREATE);
}

ML_EXPORT int epoll_create(int size)
{
    return opened(REAL(int (*)(int), epoll_create)(size), ML_FD_EPOLL_CREATE);
}

ML_EXPORT int epoll_create1(int flags)
{
    return opened(REAL(int (*)(int), epoll_create1)(flags), ML_FD_EPOLL_CREATE1);
}

ML_EXPORT int inotify_init(void)
{
    return opened(REAL(int (*)(void), inotify_init)(), ML_FD_INOTIFY_INIT);
}

ML_EXPORT int inotify_init1(int flags)
{
    return opened(REAL(int (*)(int), inotify_init1)(flags), ML_FD_INOTIFY_INIT1);
}

/* signalfd(-1, ...) makes a descriptor; on an existing one it changes the mask. */
ML_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    typedef int (*signalfd_t)(int, const sigset_t *, int);
    int rc = REAL(signalfd_t, signalfd)(fd, mask, flags);
    return fd == -1 ? opened(rc, ML_FD_SIGNALFD) : rc;
}

ML_EXPORT int timerfd_create(int clock, int flags)
{
    return opened(REAL(int (*)(int, int), timerfd_create)(clock, flags), ML_FD_TIMERFD_CREATE);
}

ML_EXPORT int close(int fd)
{
    closing(fd);
    return REAL(int (*)(int), close)(fd);
}

/* CLOSE_RANGE_CLOEXEC only marks them; without it they close. */
static void closing_range(unsigned first, unsigned last, unsigned flags)
{
    if (ML_UNLIKELY(ml_fds_on) && !(flags & CLOSE_RANGE_CLOEXEC) && ml_guard_take()) {
        if (ml_rec_on() && ml_fds_on == 1)
            ml_rec_fd_close_range(first, last);
        ml_guard_release();
    }
}

ML_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    closing_range(first, last, (unsigned)flags);
    return REAL(int (*)(unsigned, unsigned, int), close_range)(first, last, flags);
}

ML_EXPORT void closefrom(int low)
{
    if (low >= 0)
        closing_range((unsigned)low, ~0u, 0);
    REAL(void (*)(int), closefrom)(low);
}

/* ---- stdio and dirent: glibc opens and closes inside, unseen above ---- */

static FILE *opened_file(FILE *f, unsigned fn)
{
    if (ML_UNLIKELY(ml_fds_on) && f)
        opened(fileno(f), fn);
    return f;
}

typedef FILE *(*fopen_t)(const char *, const char *);
typedef FILE *(*freopen_t)(const char *, const char *, FILE *);

ML_EXPORT FILE *fopen(const char *path, const char *mode)
{
    return opened_file(REAL(fopen_t, fopen)(path, mode), ML_FD_FOPEN);
}

ML_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    return opened_file(REAL(fopen_t, fopen64)(path, mode), ML_FD_FOPEN);
}

ML_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
    if (ML_UNLIKELY(ml_fds_on) && f)
        closing(fileno(f));
    return opened_file(REAL(freopen_t, freopen)(path, mode, f), ML_FD_FREOPEN);
}

ML_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
    if (ML_UNLIKELY(ml_fds_on) && f)
        closing(fileno(f));
    return opened_file(REAL(freopen_t, freopen64)(path, mode, f), ML_FD_FREOPEN);
}

ML_EXPORT FILE *tmpfile(void)
{
    return opened_file(REAL(FILE *(*)(void), tmpfile)(), ML_FD_TMPFILE);
}

ML_EXPORT FILE *tmpfile64(void)
{
    return opened_file(REAL(FILE *(*)(void), tmpfile64)(), ML_FD_TMPFILE);
}

ML_EXPORT int fclose(FILE *f)
{
    if (ML_UNLIKELY(ml_fds_on) && f)
        closing(fileno(f));
    return REAL(int (*)(FILE *), fclose)(f);
}

ML_EXPORT FILE *popen(const char *cmd, const char *mode)
{
    return opened_file(REAL(fopen_t, popen)(cmd, mode), ML_FD_POPEN);
}

ML_EXPORT int pclose(FILE *f)
{
    if (ML_UNLIKELY(ml_fds_on) && f)
        closing(fileno(f));
    return REAL(int (*)(FILE *), pclose)(f);
}

ML_EXPORT int mkstemp(char *tmpl)
{
    return opened(REAL(int (*)(char *), mkstemp)(tmpl), ML_FD_MKSTEMP);
}

ML_EXPORT int mkostemp(char *tmpl, int flags)
{
    return opened(REAL(int (*)(char *, int), mkostemp)(tmpl, flags), ML_FD_MKSTEMP);
}

ML_EXPORT int mkstemps(char *tmpl, int suffix)
{
    return opened(REAL(int (*)(char *, int), mkstemps)(tmpl, suffix), ML_FD_MKSTEMP);
}

ML_EXPORT int mkostemps(char *tmpl, int suffix, int flags)
{
    return opened(REAL(int (*)(char *, int, int), mkostemps)(tmpl, suffix, flags), ML_FD_MKSTEMP);
}

ML_EXPORT int shm_open(const char *name, int flags, mode_t mode)
{
    typedef int (*shm_open_t)(const char *, int, mode_t);
    return opened(REAL(shm_open_t, shm_open)(name, flags, mode), ML_FD_SHM_OPEN);
}

ML_EXPORT int posix_openpt(int flags)
{
    return opened(REAL(int (*)(int), posix_openpt)(flags), ML_FD_POSIX_OPENPT);
}

ML_EXPORT DIR *opendir(const char *path)
{
    DIR *d = REAL(DIR *(*)(const char *), opendir)(path);
    if (ML_UNLIKELY(ml_fds_on) && d)
        opened(dirfd(d), ML_FD_OPENDIR);
    return d;
}

ML_EXPORT int closedir(DIR *d)
{
    if (ML_UNLIKELY(ml_fds_on))
        closing(dirfd(d));
    return REAL(int (*)(DIR *), closedir)(d);
}
