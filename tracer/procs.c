/* procs.c - process and thread tables (see procs.h). */
#include "procs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>
#include "capture.h"
#include "session.h"

static struct ml_thread *threads;
static struct ml_proc *procs, **procs_tail = &procs;
static int report_children = 1, root_pid;

void ml_procs_set_default_report(int children, int root)
{
    report_children = children;
    root_pid = root;
}

static const uint64_t *proc_frames(void *ctx, uint32_t id, uint32_t *depth)
{
    struct ml_proc *p = ctx;
    if (id & ML_INHERITED_BIT) return ml_inherit_frames(&p->inh, id, depth);
    if (!p->session) return NULL;
    struct ml_stack_source s = ml_session_stacks(p->session);
    return s.frames(s.ctx, id, depth);
}

struct ml_stack_source ml_proc_stacks(struct ml_proc *p)
{
    return (struct ml_stack_source){.frames = proc_frames, .ctx = p};
}

void ml_proc_inherit(struct ml_proc *child, struct ml_proc *parent)
{
    struct ml_blocks *copy = parent->session ? ml_session_clone_blocks(parent->session) : NULL;
    const struct ml_blocks *from = copy ? copy : parent->inh.blocks;
    if (from) ml_inherit_copy(&child->inh, from, ml_proc_stacks(parent));
    ml_blocks_free(copy);
    ml_proc_inherit_fds(child, parent);
}

void ml_proc_inherit_fds(struct ml_proc *child, struct ml_proc *parent)
{
    struct ml_fd_table fds = {0};
    if (parent->session && ml_session_copy_fds(parent->session, &fds) == 0)
        ml_inherit_fds(&child->inh, &fds, ml_proc_stacks(parent));
    else if (!parent->session)
        ml_inherit_fds(&child->inh, &parent->inh.fds, ml_proc_stacks(parent));
    ml_fd_table_free(&fds);
}

struct ml_thread *ml_threads_all(void)
{
    return threads;
}

struct ml_thread *ml_thread_find(int tid)
{
    struct ml_thread *t;
    HASH_FIND_INT(threads, &tid, t);
    return t;
}

struct ml_proc *ml_proc_find(int pid)
{
    for (struct ml_proc *p = procs; p; p = p->next)
        if (p->pid == pid && !p->reaped) return p;
    return NULL;
}

struct ml_proc *ml_proc_first(void)
{
    return procs;
}

int ml_proc_count_live(void)
{
    int n = 0;
    for (struct ml_proc *p = procs; p; p = p->next) n += !p->reaped;
    return n;
}

/* A field "Name:\tvalue" of /proc/tid/status, or -1. */
static int status_field(int tid, const char *name)
{
    char *text = ml_read_proc_file(tid, "status", NULL);
    int v = -1;
    if (!text) return -1;
    size_t len = strlen(name);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            v = atoi(line + len + 1);
            break;
        }
    free(text);
    return v;
}

static void free_argv(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++) free(argv[i]);
    free(argv);
}

void ml_proc_read_identity(struct ml_proc *p)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
    ssize_t len = readlink(path, buf, sizeof buf - 1);
    if (len > 0) {
        buf[len] = '\0';
        free(p->exe);
        p->exe = strdup(buf);
    }
    size_t clen = 0;
    char *cmd = ml_read_proc_file(p->pid, "cmdline", &clen);
    if (!cmd) return;
    size_t n = 0;
    for (size_t i = 0; i < clen; i++) n += cmd[i] == '\0';
    char **argv = calloc(n + 2, sizeof *argv);
    if (argv) {
        size_t k = 0;
        for (size_t i = 0; i < clen; i += strlen(cmd + i) + 1) argv[k++] = strdup(cmd + i);
        free_argv(p->argv);
        p->argv = argv;
    }
    free(cmd);
}

static struct ml_proc *proc_new(int pid)
{
    struct ml_proc *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->pid = pid;
    p->ppid = status_field(pid, "PPid");
    ml_proc_read_identity(p);
    p->report_it = report_children || pid == root_pid;
    p->started = ml_now();
    ml_memtrace_init(&p->mt, p->started);
    *procs_tail = p;
    procs_tail = &p->next;
    return p;
}

struct ml_thread *ml_thread_get(int tid)
{
    struct ml_thread *t = ml_thread_find(tid);
    if (t) return t;
    int tgid = status_field(tid, "Tgid");
    if (tgid <= 0) tgid = tid;
    struct ml_proc *p = ml_proc_find(tgid);
    if (!p && !(p = proc_new(tgid))) return NULL;
    t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->tid = tid;
    t->proc = p;
    t->sc_nr = -1;
    p->nthreads++;
    HASH_ADD_INT(threads, tid, t);
    return t;
}

void ml_thread_remove(struct ml_thread *t)
{
    HASH_DEL(threads, t);
    t->proc->nthreads--;
    free(t);
}

int ml_read_regs(int tid, uint64_t *regs)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0) return -errno;
    memcpy(regs, &r, sizeof r < ML_NREGS * 8 ? sizeof r : ML_NREGS * 8);
    return 0;
}
