/* buildid.h - the GNU build-id of an ELF file (its .note.gnu.build-id).
 *
 * The id that names one build of a binary: pprof's Mapping.build_id, and
 * what debuginfod and symbol servers look objects up by.  Owns nothing;
 * the caller frees the string it gets.
 */
#ifndef ML_BUILDID_H
#define ML_BUILDID_H

/* The build-id of the ELF file at path as lowercase hex, malloc'd; NULL
 * when the file cannot be read, is not ELF, or has no build-id note. */
char *ml_build_id(const char *path);

#endif
