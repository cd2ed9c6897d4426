/* owner.h - which mappings of a process exist only because memlens is there.
 *
 * DESIGN "Fragmentation and residency": a region's owner is "memlens" for
 * the shim (libmemlens.so), the libraries loaded only for it (libunwind,
 * liblzma, libgcc_s... when the program did not load them itself), and the
 * .bss of each; "program" for everything else.  The session is apart
 * already (ML_RK_SESSION).  The rule: an object is the program's when the
 * DT_NEEDED closure of some object outside the shim's own closure reaches
 * it (the executable, its libraries, whatever it dlopen'ed); the rest of
 * the shim's closure is memlens's.  The shim's TLS lies inside each
 * thread's static TLS block and cannot be told apart; it stays counted.
 * The shim's own anonymous mappings (its per-thread state blocks) are the
 * ones its ml_own_maps list names (session.h), read from the exit snapshot.
 * Reads the objects' dynamic sections from their files (libelf), each file
 * (path and inode) once a run: it keeps those names until the run ends,
 * as every process of a run maps mostly the same files.
 */
#ifndef ML_OWNER_H
#define ML_OWNER_H

#include "snapshot.h"
#include "symbols.h"

/* Set memlens[i] to 1 for each region i of snap that is memlens's, 0 for
 * the program's; sym (may be NULL) finds the shim's list of its own
 * mappings.  Returns 0 or -ENOMEM. */
int ml_owner_mark(const struct ml_snapshot *snap, struct ml_symbolizer *sym, unsigned char *memlens);

#endif
