/* attach.h - what memlens -p and libmemlens.so share in attach mode.
 *
 * In attach mode the tracer loads the shim into a running process with a
 * ptrace-driven call of dlopen, then calls the entry points below (found in
 * the shim's dynamic symbol table) on one of the target's threads:
 *
 *   ML_ATTACH_START(frames)  creates a session (include/memlens/session.h)
 *                            and returns the number of the descriptor that
 *                            holds it (or -errno); the tracer adopts it from
 *                            /proc/PID/fd/N, which sets `adopted`;
 *   ML_ATTACH_PATCH()        closes that descriptor, starts recording and
 *                            points the allocation functions' GOT entries of
 *                            every loaded object at the shim; returns the
 *                            number of entries patched (or -errno).
 *
 * Every GOT entry the shim rewrites is listed in the table ML_ATTACH_TABLE
 * (shim's .bss) before it is written: the tracer reads the table at the end
 * and puts the original values back with ptrace, without running code in
 * the target.  Writers: the shim owns the table; nobody else writes it.
 */
#ifndef MEMLENS_ATTACH_H
#define MEMLENS_ATTACH_H

#include <stdint.h>

#define ML_ATTACH_START  "memlens_attach_start"
#define ML_ATTACH_PATCH  "memlens_attach_patch"
#define ML_ATTACH_TABLE  "memlens_attach_table"

#define ML_ATTACH_MAGIC   0x48435441u       /* "ATCH" */
#define ML_ATTACH_PATCHES 8192u

struct ml_patch {
    uint64_t slot;     /* address of the GOT entry */
    uint64_t orig;     /* its value before the shim wrote it */
    uint64_t hook;     /* the shim's function written there */
    uint32_t relro;    /* 1: the entry lies in PT_GNU_RELRO (read-only page) */
    uint32_t pad;
};

struct ml_patch_table {
    uint32_t magic;
    uint32_t count;    /* entries valid (release-stored after each entry) */
    uint32_t full;     /* 1 once an entry could not be recorded (not patched) */
    uint32_t pad;
    struct ml_patch e[ML_ATTACH_PATCHES];
};

#endif
