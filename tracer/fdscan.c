/* fdscan.c - a process's open descriptors at its exit (see fdscan.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fdscan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* "a.b.c.d:port" or "[v6]:port"; "<unbound>" for port 0. */
static void inet_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else {
        const struct sockaddr_in6 *in6 = (const void *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    if (port == 0) snprintf(buf, len, "<unbound>");
    else if (ss->ss_family == AF_INET) snprintf(buf, len, "%s:%u", host, port);
    else snprintf(buf, len, "[%s]:%u", host, port);
}

/* Family and address of the socket s (a copy of the target's). */
static int describe_socket(int s, struct ml_fd_seen *f)
{
    struct sockaddr_storage me, peer;
    socklen_t melen = sizeof me, peerlen = sizeof peer;
    char buf[300], a[128], b[128];
    memset(&me, 0, sizeof me);
    if (getsockname(s, (struct sockaddr *)&me, &melen) != 0) return 0;
    int connected = getpeername(s, (struct sockaddr *)&peer, &peerlen) == 0;
    switch (me.ss_family) {
    case AF_INET:
    case AF_INET6:
        snprintf(buf, sizeof buf, "AF_INET%s", me.ss_family == AF_INET6 ? "6" : "");
        if (!(f->family = strdup(buf))) return -ENOMEM;
        inet_name(&me, a, sizeof a);
        if (connected) inet_name(&peer, b, sizeof b);
        snprintf(buf, sizeof buf, "%s <-> %s", a, connected ? b : "unbound");
        break;
    case AF_UNIX: {
        const struct sockaddr_un *un = (const void *)&me;
        size_t n = melen > offsetof(struct sockaddr_un, sun_path)
                       ? melen - offsetof(struct sockaddr_un, sun_path) : 0;
        if (!(f->family = strdup("AF_UNIX"))) return -ENOMEM;
        if (n && un->sun_path[0]) snprintf(buf, sizeof buf, "%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
        else if (n > 1) snprintf(buf, sizeof buf, "@%.*s", (int)n - 1, un->sun_path + 1);
        else snprintf(buf, sizeof buf, "<unknown>");
        break;
    }
    default:
        snprintf(buf, sizeof buf, "pf-%d", me.ss_family);
        if (!(f->family = strdup(buf))) return -ENOMEM;
        snprintf(buf, sizeof buf, "<unknown>");
    }
    return (f->address = strdup(buf)) ? 0 : -ENOMEM;
}

/* Open flags and offset from /proc/TID/fdinfo/FD (flags are octal). */
static void read_info(int tid, int fd, struct ml_fd_seen *f)
{
    char path[64], line[128];
    unsigned long long pos = 0;
    unsigned flags = 0;
    int got = 0;
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", tid, fd);
    FILE *in = fopen(path, "re");
    if (!in) return;
    while (fgets(line, sizeof line, in)) {
        got += sscanf(line, "pos: %llu", &pos) == 1;
        got += sscanf(line, "flags: %o", &flags) == 1;
    }
    fclose(in);
    if (got == 2) {
        f->have_info = 1;
        f->flags = flags;
        f->pos = pos;
    }
}

static int read_one(int tid, int pidfd, int fd, struct ml_fd_seen *f)
{
    char path[64], link[4096];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", tid, fd);
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len < 0) return -errno;
    link[len] = '\0';
    f->fd = fd;
    if (!(f->target = strdup(link))) return -ENOMEM;
    read_info(tid, fd, f);
    if (strncmp(link, "socket:", 7) != 0 || pidfd < 0) return 0;
    int s = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (s < 0) return 0;   /* then only "socket:[inode]" is known */
    int rc = describe_socket(s, f);
    close(s);
    return rc;
}

static int by_fd(const void *a, const void *b)
{
    const struct ml_fd_seen *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

int ml_fdscan(int pid, int tid, struct ml_fd_seen **out, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", tid);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return -errno;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), rc = 0;
    size_t cap = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end) continue;
        if (*n == cap) {
            struct ml_fd_seen *v = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof *v);
            if (!v) { rc = -ENOMEM; break; }
            *out = v;
        }
        memset(&(*out)[*n], 0, sizeof **out);
        int r = read_one(tid, pidfd, (int)fd, &(*out)[*n]);
        if (r == 0) (*n)++;
        else if (r == -ENOMEM) rc = r;
        else free((*out)[*n].target);   /* closed meanwhile by another thread */
    }
    closedir(d);
    if (pidfd >= 0) close(pidfd);
    if (*out) qsort(*out, *n, sizeof **out, by_fd);
    return rc;
}

void ml_fdscan_free(struct ml_fd_seen *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].target);
        free(v[i].family);
        free(v[i].address);
    }
    free(v);
}
