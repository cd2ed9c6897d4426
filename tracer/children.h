/* children.h - which exec'd images memlens traces (--trace-children,
 * --trace-children-skip, --trace-children-skip-by-arg).
 *
 * As under valgrind, a forked child is always checked; an image it or any
 * traced process executes is traced only with --trace-children=yes and when
 * no skip pattern matches.  Owns nothing.
 */
#ifndef ML_CHILDREN_H
#define ML_CHILDREN_H

struct ml_children {
    int trace;                   /* --trace-children=yes */
    const char *skip;            /* comma list of patterns (* and ?) for the path */
    const char *skip_by_arg;     /* ... for any argument after argv[0] */
};

/* Whether the exec of path with argv (NULL-terminated, may be NULL) is traced. */
int ml_children_trace_exec(const struct ml_children *c, const char *path, char *const *argv);

#endif
