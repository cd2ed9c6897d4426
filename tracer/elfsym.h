/* elfsym.h - where a shared object's dynamic symbols are in another process.
 *
 * Finds a module in /proc/PID/maps, computes its load bias, and looks a
 * name up in the file's dynamic symbol table (libelf).  Owns nothing after
 * a call returns.
 */
#ifndef ML_ELFSYM_H
#define ML_ELFSYM_H

#include <limits.h>
#include <stdint.h>

struct ml_module {
    char path[PATH_MAX];      /* as /proc/PID/maps names it */
    uint64_t start;           /* start of its mapping at file offset 0 */
};

/* The first module of pid whose path `match` accepts.  Returns 0, -ENOENT
 * when none matches, or -errno when the map cannot be read. */
int ml_module_find(int pid, int (*match)(const char *path, void *ctx), void *ctx,
                   struct ml_module *out);
/* The address in pid of m's defined dynamic symbol name (the default
 * version when there are several).  Returns 0, -ENOENT, or -errno. */
int ml_module_symbol(int pid, const struct ml_module *m, const char *name, uint64_t *addr);
/* 1 when path's last component starts with prefix. */
int ml_module_named(const char *path, void *prefix);

#endif
