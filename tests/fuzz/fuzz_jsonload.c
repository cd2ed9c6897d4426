/* fuzz_jsonload.c - libFuzzer harness for --load: the JSON parser and the
 * report loader.  The input is a saved report; one that loads is rendered
 * as JSON again, and that JSON must load too (a renderer must never write
 * what the loader refuses), then compared with itself by the diff. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "diff.h"
#include "jsonload.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ml_report *r = NULL, *again = NULL;
    char err[512], *buf = NULL;
    size_t len = 0;
    if (ml_report_load_text("fuzz.json", (const char *)data, size, &r, err, sizeof err) != 0) return 0;
    FILE *f = open_memstream(&buf, &len);
    if (f && ml_render_json(f, r, NULL) == 0) {
        fclose(f);
        f = NULL;
        if (ml_report_load_text("again.json", buf, len, &again, err, sizeof err) != 0) abort();
        (void)ml_report_diff(again, r);
    }
    if (f) fclose(f);
    free(buf);
    ml_report_free(again);
    ml_report_free(r);
    return 0;
}
