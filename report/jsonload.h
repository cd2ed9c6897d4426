/* jsonload.h - a saved JSON report back into the model (--load).
 *
 * Reads what json.c writes (schema 1, docs/json.md) with jsonr and rebuilds
 * the struct ml_report every renderer takes: processes, loss records
 * (suppressed ones too), stacks with linkage names, heap, regions, shm,
 * syscalls, timeline, descriptors and the options that shaped the report.  Keys it does
 * not know are skipped, so that a report from a later memlens still loads.
 * The report it returns owns everything in it (ml_report_free).  Errors come
 * back with a message in the caller's buffer; nothing is printed.
 */
#ifndef ML_JSONLOAD_H
#define ML_JSONLOAD_H

#include <stddef.h>
#include "model.h"

/* The report saved at path.  Returns 0, or -1 with errno set and the cause
 * in err: "REPORT.json: No such file or directory", "REPORT.json: offset
 * 12: expected ':'", "REPORT.json: not a memlens report (no schema 1)". */
int ml_report_load(const char *path, struct ml_report **out, char *err, size_t errlen);
/* The same from text in memory; name stands for the file in messages. */
int ml_report_load_text(const char *name, const char *text, size_t len, struct ml_report **out,
                        char *err, size_t errlen);

#endif
