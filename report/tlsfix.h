/* tlsfix.h - the heap as the program would have it without memlens's TLS.
 *
 * glibc gives every thread a dynamic thread vector (DTV), calloc'ed by the
 * dynamic loader when the thread is created, with one 16-byte entry per
 * loaded module that has thread-local storage.  libmemlens.so and the
 * libunwind it brings are two such modules, so under memlens every DTV is
 * 32 bytes larger than in the program alone, and than under valgrind
 * (whose preload has no TLS).  These blocks are shrunk back by the entries
 * memlens added, so that leak figures describe the program.
 */
#ifndef ML_TLSFIX_H
#define ML_TLSFIX_H

#include <stddef.h>
#include "blocks.h"
#include "leaks.h"
#include "snapshot.h"

/* How many TLS modules memlens itself loaded into the process. */
unsigned ml_tls_extra_modules(const struct ml_snapshot *snap);
/* Shrink the DTV blocks among blocks; returns the bytes taken off. */
uint64_t ml_tls_fix_blocks(struct ml_block *blocks, size_t n, const struct ml_leak_input *in,
                           unsigned extra_modules);

#endif
