/* formats.c - writing the XML, SARIF and pprof reports (see formats.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errors.h"
#include "filepattern.h"
#include "formats.h"
#include "reportfile.h"

int ml_formats_check(const struct ml_options *o)
{
    if (o->xml && o->xml_file && !ml_file_pattern_per_process(o->xml_file)) {
        char *path = ml_expand_file_pattern(o->xml_file, 0);
        int rc = path ? ml_reportfile_check(path) : -1;
        free(path);
        if (rc != 0) return -1;
    }
    if (o->sarif_file && ml_reportfile_check(o->sarif_file) != 0) return -1;
    if (o->pprof_file && ml_reportfile_check(o->pprof_file) != 0) return -1;
    return 0;
}

typedef int (*render_fn)(FILE *out, const struct ml_report *r, const void *what,
                         const struct ml_render_opts *ro);

static int write_file(const char *path, const struct ml_report *rep, const void *what,
                      render_fn render, const struct ml_render_opts *ro)
{
    FILE *f = ml_reportfile_open(path);
    if (!f) return -1;
    int rc = render(f, rep, what, ro), err = errno;
    if (ml_reportfile_close(f, path) != 0) return -1;
    if (rc != 0) return ml_error("cannot write %s: %s", path, strerror(err)), -1;
    return 0;
}

static int render_xml(FILE *out, const struct ml_report *r, const void *proc,
                      const struct ml_render_opts *ro)
{
    return ml_render_xml(out, r, proc, ro);
}

static int render_sarif(FILE *out, const struct ml_report *r, const void *unused,
                        const struct ml_render_opts *ro)
{
    return ml_render_sarif(out, r, ro);
}

static int render_pprof(FILE *out, const struct ml_report *r, const void *unused,
                        const struct ml_render_opts *ro)
{
    return ml_render_pprof(out, r, ro);
}

/* --xml-fd: the first process's document on a descriptor the caller owns. */
static int write_xml_fd(int fd, const struct ml_report *rep, const struct ml_render_opts *ro)
{
    int copy = dup(fd);
    FILE *f = copy >= 0 ? fdopen(copy, "w") : NULL;
    if (!f) {
        if (copy >= 0) close(copy);
        return ml_error("cannot write the XML to descriptor %d: %s", fd, strerror(errno)), -1;
    }
    int rc = ml_render_xml(f, rep, &rep->procs[0], ro);
    if (fclose(f) != 0 || rc != 0)
        return ml_error("cannot write the XML to descriptor %d: %s", fd, strerror(errno)), -1;
    return 0;
}

static int write_xml(const struct ml_options *o, const struct ml_report *rep,
                     const struct ml_render_opts *ro)
{
    if (!o->xml || rep->nprocs == 0) return 0;
    if (!o->xml_file) return write_xml_fd(o->xml_fd, rep, ro);
    size_t n = ml_file_pattern_per_process(o->xml_file) ? rep->nprocs : 1;
    for (size_t i = 0; i < n; i++) {
        char *path = ml_expand_file_pattern(o->xml_file, rep->procs[i].pid);
        int rc = path ? write_file(path, rep, &rep->procs[i], render_xml, ro) : -1;
        free(path);
        if (rc != 0) return -1;
    }
    return 0;
}

int ml_formats_write(const struct ml_options *o, const struct ml_report *rep,
                     const struct ml_render_opts *ro)
{
    if (write_xml(o, rep, ro) != 0) return -1;
    if (o->sarif_file && write_file(o->sarif_file, rep, NULL, render_sarif, ro) != 0) return -1;
    if (o->pprof_file && write_file(o->pprof_file, rep, NULL, render_pprof, ro) != 0) return -1;
    return 0;
}
