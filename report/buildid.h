/* buildid.h - the GNU build-id of an ELF file (its .note.gnu.build-id).
 *
 * The id that names one build of a binary: pprof's Mapping.build_id, and
 * what debuginfod and symbol servers look objects up by.  The caller frees
 * the string it gets; ml_build_id_of keeps the ids it read, one per file,
 * until the run ends.
 */
#ifndef ML_BUILDID_H
#define ML_BUILDID_H

#include <stdint.h>

/* The build-id of the ELF file at path as lowercase hex, malloc'd; NULL
 * when the file cannot be read, is not ELF, or has no build-id note. */
char *ml_build_id(const char *path);

/* The same, read once a run for the file at path with that inode: every
 * process of a run maps mostly the same files. */
char *ml_build_id_of(const char *path, uint64_t inode);

#endif
