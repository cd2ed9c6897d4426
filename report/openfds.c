/* openfds.c - descriptors open at exit (see openfds.h). */
#include "openfds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memlens/session.h"

int ml_fd_table_open(struct ml_fd_table *t, int fd, unsigned fn, uint32_t stack, uint64_t seq)
{
    if (fd < 0) return 0;
    if ((size_t)fd >= t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap <= (size_t)fd) cap *= 2;
        struct ml_fd_rec *r = realloc(t->recs, cap * sizeof *r);
        if (!r) return -ENOMEM;
        memset(r + t->cap, 0, (cap - t->cap) * sizeof *r);
        t->recs = r;
        t->cap = cap;
    }
    t->recs[fd] = (struct ml_fd_rec){.seq = seq, .stack = stack, .fn = (uint16_t)fn};
    return 0;
}

void ml_fd_table_close_range(struct ml_fd_table *t, uint64_t first, uint64_t last)
{
    if (last >= t->cap) last = t->cap ? t->cap - 1 : 0;
    for (uint64_t fd = first; t->cap && fd <= last; fd++)
        memset(&t->recs[fd], 0, sizeof t->recs[fd]);
}

void ml_fd_table_close(struct ml_fd_table *t, int fd)
{
    if (fd >= 0) ml_fd_table_close_range(t, (uint64_t)fd, (uint64_t)fd);
}

const struct ml_fd_rec *ml_fd_table_get(const struct ml_fd_table *t, int fd)
{
    if (!t || fd < 0 || (size_t)fd >= t->cap || t->recs[fd].fn == 0) return NULL;
    return &t->recs[fd];
}

void ml_fd_table_free(struct ml_fd_table *t)
{
    free(t->recs);
    t->recs = NULL;
    t->cap = 0;
}

const char *ml_fd_fn_name(unsigned fn)
{
    static const char *const names[ML_FD_COUNT] = {
        [ML_FD_OPEN] = "open", [ML_FD_OPENAT] = "openat", [ML_FD_CREAT] = "creat",
        [ML_FD_SOCKET] = "socket", [ML_FD_SOCKETPAIR] = "socketpair",
        [ML_FD_ACCEPT] = "accept", [ML_FD_ACCEPT4] = "accept4", [ML_FD_PIPE] = "pipe",
        [ML_FD_PIPE2] = "pipe2", [ML_FD_DUP] = "dup", [ML_FD_DUP2] = "dup2",
        [ML_FD_DUP3] = "dup3", [ML_FD_FCNTL] = "fcntl", [ML_FD_EVENTFD] = "eventfd",
        [ML_FD_MEMFD_CREATE] = "memfd_create", [ML_FD_EPOLL_CREATE] = "epoll_create",
        [ML_FD_EPOLL_CREATE1] = "epoll_create1", [ML_FD_INOTIFY_INIT] = "inotify_init",
        [ML_FD_INOTIFY_INIT1] = "inotify_init1", [ML_FD_SIGNALFD] = "signalfd",
        [ML_FD_TIMERFD_CREATE] = "timerfd_create", [ML_FD_FOPEN] = "fopen",
        [ML_FD_FREOPEN] = "freopen", [ML_FD_TMPFILE] = "tmpfile", [ML_FD_OPENDIR] = "opendir",
        [ML_FD_MKSTEMP] = "mkstemp", [ML_FD_SHM_OPEN] = "shm_open",
        [ML_FD_POSIX_OPENPT] = "posix_openpt", [ML_FD_POPEN] = "popen",
    };
    return fn < ML_FD_COUNT ? names[fn] : NULL;
}

/* "file", "pipe", "socket", "anon" or "other", from the link's form. */
static const char *kind_of(const char *target)
{
    if (target[0] == '/') return "file";
    if (strncmp(target, "pipe:", 5) == 0) return "pipe";
    if (strncmp(target, "socket:", 7) == 0) return "socket";
    if (strncmp(target, "anon_inode:", 11) == 0) return "anon";
    return "other";
}

static int dup_or_null(char **dst, const char *src)
{
    if (!src) return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

/* Who made fd, and *seq (0 = unknown) to order it by, newest first as
 * valgrind lists them: what this process made (by its event order), then
 * what a forked child got from its parent (by the parent's), then what was
 * inherited (the two processes count events apart). */
static const struct ml_fd_rec *record_of(const struct ml_fds_input *in, int fd, uint64_t *seq)
{
    const struct ml_fd_rec *own = ml_fd_table_get(in->table, fd);
    const struct ml_fd_rec *at_fork = ml_fd_table_get(in->forked_from, fd);
    const struct ml_fd_rec *rec = at_fork && (!own || own->fn == ML_FD_INHERITED) ? at_fork : own;
    uint64_t seq_bits = (rec ? rec->seq : 0) & ((1ull << 61) - 1);
    if (!rec) *seq = 0;
    else if (rec->fn == ML_FD_INHERITED) *seq = 1ull << 61 | seq_bits;
    else if (rec == at_fork) *seq = 2ull << 61 | seq_bits;
    else *seq = 3ull << 61 | seq_bits;
    return rec;
}

static int fill_one(const struct ml_fds_input *in, const struct ml_fd_seen *s,
                    const struct ml_fd_rec *rec, struct ml_fd_out *o)
{
    const char *fn = rec ? ml_fd_fn_name(rec->fn) : NULL;
    o->fd = s->fd;
    o->inherited = rec && rec->fn == ML_FD_INHERITED;
    o->std = s->fd <= 2 && (!rec || o->inherited);   /* not reopened */
    if ((o->have_info = s->have_info)) {
        unsigned acc = s->flags & O_ACCMODE;
        snprintf(o->access, sizeof o->access, "%s",
                 acc == O_RDONLY ? "read" : acc == O_WRONLY ? "write" : "read-write");
        o->cloexec = (s->flags & O_CLOEXEC) != 0;
        o->pos = s->pos;
    }
    if (dup_or_null(&o->kind, kind_of(s->target)) || dup_or_null(&o->path, s->target) ||
        dup_or_null(&o->family, s->family) || dup_or_null(&o->address, s->address) ||
        dup_or_null(&o->function, fn))
        return -ENOMEM;
    if (fn && ml_stack_resolve(in->stacks, in->sym, in->max_frames, in->stack_style, rec->stack, fn,
                                &o->stack))
        return -ENOMEM;
    return 0;
}

static int is_own(const struct ml_fds_input *in, int fd)
{
    for (size_t i = 0; i < in->nown; i++)
        if (in->own[i] == fd) return 1;
    return 0;
}

size_t ml_fds_own(const struct ml_snapshot *snap, struct ml_symbolizer *sym, int *own)
{
    /* the list is an array of int32 in the shim's data, read a word at a time */
    uint64_t list = sym ? ml_symbol_address(sym, "libmemlens.so", ML_OWN_FDS_SYMBOL, NULL) : 0;
    size_t n = 0;
    for (unsigned i = 0; list && i < ML_OWN_FDS_MAX; i += 2) {
        uint64_t word;
        if (!ml_snapshot_read_word(snap, list + 4 * i, &word)) break;
        int32_t v[2] = {(int32_t)(uint32_t)word, (int32_t)(uint32_t)(word >> 32)};
        for (int k = 0; k < 2; k++)
            if (v[k] > 0) own[n++] = v[k] - 1;
    }
    return n;
}

struct ordered {
    uint64_t seq;          /* order key of record_of(); 0 = no record */
    struct ml_fd_out out;
};

/* Newest first, as valgrind lists them; those never recorded last. */
static int newest_first(const void *a, const void *b)
{
    const struct ordered *x = a, *y = b;
    if (x->seq != y->seq) return x->seq < y->seq ? 1 : -1;
    return (x->out.fd < y->out.fd) - (x->out.fd > y->out.fd);
}

int ml_fds_build(const struct ml_fds_input *in, struct ml_proc_report *out)
{
    size_t n = in->nseen;
    struct ordered *v = calloc(n ? n : 1, sizeof *v);
    int rc = v ? 0 : -ENOMEM;
    size_t done = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const struct ml_fd_rec *rec = record_of(in, in->seen[i].fd, &v[done].seq);
        if (is_own(in, in->seen[i].fd)) continue;   /* memlens's, not the program's */
        rc = fill_one(in, &in->seen[i], rec, &v[done].out);
        done++;
    }
    qsort(v, done, sizeof *v, newest_first);
    out->have_fds = 1;
    out->fds_list_std = in->list_std;
    out->fds = calloc(n ? n : 1, sizeof *out->fds);
    if (!out->fds) rc = -ENOMEM;
    for (size_t i = 0; out->fds && i < done; i++) out->fds[out->nfds++] = v[i].out;
    for (size_t i = 0; !out->fds && i < done; i++) ml_fd_out_free(&v[i].out);
    free(v);
    return rc;
}

void ml_fd_title(char *buf, size_t len, const struct ml_fd_out *f)
{
    if (f->family && f->address)
        snprintf(buf, len, "Open %s socket %d: %s", f->family, f->fd, f->address);
    else if (f->path && f->path[0])
        snprintf(buf, len, "Open file descriptor %d: %s", f->fd, f->path);
    else
        snprintf(buf, len, "Open file descriptor %d:", f->fd);
}

int ml_fd_listed(const struct ml_proc_report *p, const struct ml_fd_out *f)
{
    return !f->std || p->fds_list_std;
}

size_t ml_fds_std(const struct ml_proc_report *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nfds; i++) n += p->fds[i].std;
    return n;
}
