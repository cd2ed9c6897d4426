/* textlog.c - the destinations of the text report (see textlog.h). */
#include "textlog.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errors.h"
#include "filepattern.h"
#include "reportfile.h"

struct pfile {
    int pid;
    char *path;
    FILE *f;
    struct pfile *next;
};

static const char *pattern;      /* per-process file names */
static FILE *shared;             /* the one stream otherwise */
static char *shared_path;        /* its file, or NULL for a descriptor */
static struct pfile *files;
static int failed;               /* a close failed: first_error says how */
static char first_error[512];

static int open_shared_file(const char *pat)
{
    if (!(shared_path = ml_expand_file_pattern(pat, (int)getpid()))) return -1;
    if (ml_reportfile_check(shared_path) != 0) return -1;
    return (shared = ml_reportfile_open(shared_path)) ? 0 : -1;
}

static int open_fd(int fd)
{
    if (fd == 2) { shared = stderr; return 0; }
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0 || !(shared = fdopen(copy, "w"))) {
        if (copy >= 0) close(copy);
        ml_error("--log-fd=%d: %s", fd, strerror(errno));
        return -1;
    }
    return 0;
}

int ml_textlog_init(const char *pat, int fd)
{
    if (pat && ml_file_pattern_per_process(pat)) {
        pattern = pat;
        return ml_file_pattern_dir_writable(pat);
    }
    return pat ? open_shared_file(pat) : open_fd(fd);
}

int ml_textlog_per_process(void)
{
    return pattern != NULL;
}

FILE *ml_textlog_stream(int pid)
{
    if (!pattern) return shared;
    for (struct pfile *p = files; p; p = p->next)
        if (p->pid == pid) return p->f;
    struct pfile *p = calloc(1, sizeof *p);
    if (!p) return ml_error("out of memory"), NULL;
    if (!(p->path = ml_expand_file_pattern(pattern, pid)) || !(p->f = ml_reportfile_open(p->path))) {
        free(p->path);
        free(p);
        return NULL;
    }
    p->pid = pid;
    p->next = files;
    files = p;
    return p->f;
}

/* Close f; the first failure's message stays in ml_error. */
static int close_one(FILE *f, const char *path)
{
    if (ml_reportfile_close(f, path) == 0) return 0;
    if (!failed) snprintf(first_error, sizeof first_error, "%s", ml_last_error());
    failed = 1;
    return -1;
}

/* A process was reported: its log file exists, even when there was nothing
 * to say (-q and no leak), as valgrind's does; tools that read it (CTest)
 * take a missing file for a failed run. */
static void make_exist(const char *path)
{
    if (!path || access(path, F_OK) == 0) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0) close(fd);
}

int ml_textlog_done(int pid)
{
    if (!pattern) make_exist(shared_path);
    for (struct pfile **pp = &files; *pp; pp = &(*pp)->next) {
        struct pfile *p = *pp;
        if (p->pid != pid) continue;
        *pp = p->next;
        int rc = close_one(p->f, p->path);
        if (rc == 0) make_exist(p->path);
        free(p->path);
        free(p);
        return rc;
    }
    return 0;
}

int ml_textlog_close(void)
{
    while (files) ml_textlog_done(files->pid);
    if (shared && shared != stderr) {
        if (shared_path) close_one(shared, shared_path);
        else if (fclose(shared) != 0 && !failed) {
            snprintf(first_error, sizeof first_error, "cannot write the text report: %s",
                     strerror(errno));
            failed = 1;
        }
    } else if (shared) {
        fflush(shared);
    }
    shared = NULL;
    free(shared_path);
    shared_path = NULL;
    if (!failed) return 0;
    ml_error("%s", first_error);
    return -1;
}
