/* suppress.h - valgrind-format leak suppressions: parse files, match stacks.
 *
 * A set holds the Memcheck:Leak entries of one or more suppression files,
 * in the format valgrind reads (see valgrind's manual, "Suppressing
 * errors"):
 *
 *   {
 *      name
 *      Memcheck:Leak
 *      match-leak-kinds: definite,possible     (optional; default all)
 *      fun:malloc                              frames, innermost first:
 *      ...                                     fun:NAME obj:PATH src:FILE[:LINE]
 *      fun:_ZN3Foo3barEv                       or "..." for any frames
 *   }
 *
 * NAME and PATH take the wildcards '*' and '?' ('\' quotes the next
 * character).  Entries of other tools (Helgrind:Race) and of other Memcheck
 * kinds (Memcheck:Cond) are read and skipped, as valgrind would with
 * another tool.  Lines starting with '#' and blank lines are ignored.
 *
 * Matching follows memcheck: the entry's frames must match the record's
 * first frames in order (frames[0] is the allocator, e.g. malloc), the
 * stack may go on after them, and an inlined frame counts as a frame.  A
 * fun: pattern matches the frame's mangled or demangled name, and
 * "(below main)" names glibc's __libc_start_* frames.  Unknown names read
 * as "???".  The allocator frames that valgrind shows for posix_memalign,
 * valloc, pvalloc and aligned_alloc (memalign first) match too, so that
 * entries valgrind generated for them apply.
 *
 * The set owns copies of every string it holds.  Errors are returned with
 * a message ("FILE:LINE: cause") in the caller's buffer; nothing is printed.
 */
#ifndef ML_SUPPRESS_H
#define ML_SUPPRESS_H

#include <stddef.h>
#include "model.h"

struct ml_suppressions;

struct ml_suppressions *ml_suppressions_new(void);   /* NULL on ENOMEM */
void ml_suppressions_free(struct ml_suppressions *s);

/* Add the entries of the file at path.  Returns 0, or -1 with errno set
 * and the cause in err (at most errlen bytes): "path: No such file...",
 * "path:12: unexpected end of file inside an entry". On error, the entries
 * of that file read so far are kept. */
int ml_suppressions_load(struct ml_suppressions *s, const char *path, char *err, size_t errlen);
/* The same for text held in memory; name stands for the file in messages. */
int ml_suppressions_load_text(struct ml_suppressions *s, const char *name, const char *text,
                              char *err, size_t errlen);

/* Memcheck:Leak entries held (skipped entries of other kinds not counted). */
size_t ml_suppressions_count(const struct ml_suppressions *s);

/* The name of the first entry that matches a record of this kind and
 * stack, or NULL.  The name lives as long as the set. */
const char *ml_suppressions_match(const struct ml_suppressions *s, enum ml_leak_kind kind,
                                  const struct ml_stack_out *stack);
/* The same, and where that entry is: *file (the path it was loaded from, as
 * given, owned by the set) and *line (the line of its '{'). */
const char *ml_suppressions_match_at(const struct ml_suppressions *s, enum ml_leak_kind kind,
                                     const struct ml_stack_out *stack, const char **file,
                                     int *line);

/* Generating an entry for a record (--gen-suppressions): the first
 * ml_suppression_frames(st) frames of its stack, none below main as
 * valgrind writes them; each frame as fun:NAME (the linkage name of a C++
 * function) or, when the function is unknown, obj:MODULE ("*" when that is
 * unknown too).  *is_fun tells which; the name lives as long as the frame. */
size_t ml_suppression_frames(const struct ml_stack_out *st);
const char *ml_suppression_frame(const struct ml_frame_out *f, int *is_fun);

/* valgrind's name matching: '*' any run, '?' one character, '\' quotes. */
int ml_supp_wildcard(const char *pattern, const char *text);

#endif
