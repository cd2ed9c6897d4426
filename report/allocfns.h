/* allocfns.h - allocation wrappers: functions that only call the allocator.
 *
 * A report names the first frame of an allocation stack outside them as the
 * place a block was allocated at (as valgrind's massif does with its
 * --alloc-fn list): in bash that is xmalloc's caller, not xmalloc.  The
 * known list covers the common C wrappers (gnulib's, GLib's, bash's, PHP's,
 * CPython's allocator entry points); --alloc-fn=NAME adds more.  Owns only
 * the constant list.
 */
#ifndef ML_ALLOCFNS_H
#define ML_ALLOCFNS_H

/* The known wrappers, NULL-terminated. */
extern const char *const ml_known_alloc_fns[];

#endif
