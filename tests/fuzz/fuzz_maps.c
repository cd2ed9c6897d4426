/* fuzz_maps.c - libFuzzer harness for the /proc/PID/maps parser and lookups. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct ml_snapshot s = {0};
    if (ml_snapshot_parse_maps(&s, text) == 0) {
        for (size_t i = 0; i < s.nregions; i++) {
            (void)ml_snapshot_find(&s, s.regions[i].start);
            (void)ml_snapshot_find(&s, s.regions[i].end - 1);
            (void)ml_region_kind_name(s.regions[i].kind);
        }
        ml_snapshot_free(&s);
    }
    free(text);
    return 0;
}
