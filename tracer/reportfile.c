/* reportfile.c - report streams created on first write, written to the end. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errors.h"
#include "reportfile.h"

struct reportfile {
    char *path;
    int fd;        /* -1 until the first write */
    int err;       /* the first errno, 0 while all is well */
};

static int ensure_open(struct reportfile *rf)
{
    if (rf->fd < 0 && !rf->err) {
        rf->fd = open(rf->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (rf->fd < 0) rf->err = errno;
    }
    return rf->err ? -1 : 0;
}

static ssize_t rf_write(void *cookie, const char *buf, size_t size)
{
    struct reportfile *rf = cookie;
    if (ensure_open(rf) != 0) {
        errno = rf->err;
        return -1;
    }
    for (size_t done = 0; done < size;) {
        ssize_t n = write(rf->fd, buf + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rf->err = n < 0 ? errno : EIO;
            errno = rf->err;
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)size;
}

static int rf_close(void *cookie)
{
    struct reportfile *rf = cookie;
    if (rf->fd >= 0 && close(rf->fd) != 0 && !rf->err && errno != EINTR) rf->err = errno;
    int err = rf->err;
    free(rf->path);
    free(rf);
    if (!err) return 0;
    errno = err;
    return -1;
}

FILE *ml_reportfile_open(const char *path)
{
    struct reportfile *rf = calloc(1, sizeof *rf);
    FILE *f = NULL;
    if (rf && (rf->path = strdup(path))) {
        rf->fd = -1;
        f = fopencookie(rf, "w", (cookie_io_functions_t){.write = rf_write, .close = rf_close});
    }
    if (!f) {
        if (rf) free(rf->path);
        free(rf);
        ml_error("cannot write %s: %s", path, strerror(ENOMEM));
    }
    return f;
}

int ml_reportfile_check(const char *path)
{
    int ok;
    if (access(path, F_OK) == 0) {
        ok = access(path, W_OK) == 0;
    } else if (errno != ENOENT) {
        ok = 0;
    } else {
        char *copy = strdup(path);
        if (!copy) {
            errno = ENOMEM;
            ok = 0;
        } else {
            ok = access(dirname(copy), W_OK | X_OK) == 0;
            free(copy);
        }
    }
    if (ok) return 0;
    int err = errno;
    ml_error("cannot write %s: %s", path, strerror(err));
    return -err;
}

int ml_reportfile_close(FILE *f, const char *path)
{
    if (!f) return 0;
    int bad = ferror(f);
    errno = 0;
    if (fclose(f) == 0 && !bad) return 0;
    int err = errno ? errno : EIO;
    ml_error("cannot write %s: %s", path, strerror(err));
    return -err;
}
