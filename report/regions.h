/* regions.h - the process layout, SysV/POSIX shm and mapping leaks of a report.
 *
 * Joins the exit snapshot (what is mapped, what is resident) with the
 * syscall watcher's memtrace (which syscall made each mapping and when, the
 * shm segments, the heap-size timeline) and the shim's record of the
 * program's own mmap and shmget calls (who made them).
 */
#ifndef ML_REGIONS_H
#define ML_REGIONS_H

#include "leaks.h"
#include "memtrace.h"
#include "model.h"
#include "snapshot.h"

struct ml_regions_input {
    const struct ml_snapshot *snap;       /* may be unscanned: regions then empty */
    const struct ml_memtrace *mt;
    struct ml_stack_source stacks;
    struct ml_symbolizer *sym;
    unsigned max_frames;
    unsigned stack_style;  /* ML_STACK_* (leaks.h) */
    /* 1 when SysV segment shmid still exists (NULL: trust the memtrace). */
    int (*shm_exists)(int shmid);
    /* 1 when a POSIX shm file still exists (NULL: assume it does). */
    int (*file_exists)(const char *path);
    /* 0: no syscall was watched (memlens -p installs no filter): the
     * report has no syscall counts and no timeline rather than zeros. */
    int syscalls_watched;
};

/* Fill out's regions, shm, timeline, syscalls and mapping_leaks. Returns 0 or -ENOMEM. */
int ml_regions_build(const struct ml_regions_input *in, struct ml_proc_report *out);
const char *ml_syscall_name(int index);

#endif
