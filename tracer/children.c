/* children.c - the exec'd images memlens traces (see children.h). */
#include "children.h"

#include <fnmatch.h>
#include <string.h>

/* Whether s matches one of the comma-separated patterns in list. */
static int matches_any(const char *list, const char *s)
{
    char pat[4096];
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && len < sizeof pat) {
            memcpy(pat, p, len);
            pat[len] = '\0';
            if (fnmatch(pat, s, 0) == 0) return 1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

int ml_children_trace_exec(const struct ml_children *c, const char *path, char *const *argv)
{
    if (!c->trace) return 0;
    if (path && matches_any(c->skip, path)) return 0;
    for (size_t i = 1; c->skip_by_arg && argv && argv[0] && argv[i]; i++)
        if (matches_any(c->skip_by_arg, argv[i])) return 0;
    return 1;
}
