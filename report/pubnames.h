/* pubnames.h - the name a function is shown by, among the symbols at its address.
 *
 * A function often has several symbols at its address: glibc's internal
 * aliases (__GI_setlocale, __GI__dl_allocate_tls), its implementation names
 * (__dlerror for dlerror, __libc_start_main_impl), the double-underscore
 * spelling (__strdup).  valgrind shows the public one, and suppression files
 * name it; memlens picks the same: an exported symbol (global or weak, default
 * visibility) over an internal one, then the fewest leading underscores, then
 * the shortest, then the first in byte order.
 *
 * Owns, per module, an index of its function symbols by address, built on the
 * first look-up in that module; names point into libdwfl's symbol tables.
 */
#ifndef ML_PUBNAMES_H
#define ML_PUBNAMES_H

#include <elfutils/libdwfl.h>

struct ml_pubnames;

struct ml_pubnames *ml_pubnames_new(void);
void ml_pubnames_free(struct ml_pubnames *p);
/* The shown name of the function symbol that starts at address start
 * (module-relative addresses as libdwfl gives them) in mod; NULL when mod
 * has no function symbol there, or memory runs out. */
const char *ml_pubname(struct ml_pubnames *p, Dwfl_Module *mod, GElf_Addr start);
/* 1 when symbol a is shown rather than symbol b (the order above). */
int ml_pubname_prefer(const char *a, int a_exported, const char *b, int b_exported);

#endif
