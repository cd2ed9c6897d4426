/* strpool.h - a set of strings, each stored once.
 *
 * The resolved frames of a process's leak records name the same functions,
 * files and modules over and over: a million 48-frame stacks would
 * otherwise hold a hundred million copies of a few hundred strings.  The
 * pool owns every string it hands out; they live until ml_strpool_free.
 */
#ifndef ML_STRPOOL_H
#define ML_STRPOOL_H

struct ml_strpool;

struct ml_strpool *ml_strpool_new(void);
void ml_strpool_free(struct ml_strpool *p);
/* The pool's copy of s (the same pointer for equal strings); NULL when s
 * is NULL or memory runs out. */
char *ml_strpool_get(struct ml_strpool *p, const char *s);

#endif
