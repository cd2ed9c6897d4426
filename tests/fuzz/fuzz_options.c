/* fuzz_options.c - libFuzzer harness for memlens's command line parser.
 * The input is split at NUL bytes and newlines into argv[1..]. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "errors.h"
#include "options.h"

static char last[512];

void ml_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last, sizeof last, fmt, ap);
    va_end(ap);
}

const char *ml_last_error(void)
{
    return last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *argv[66];
    int argc = 0;
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "memlens";
    for (char *p = buf; argc < 64 && p < buf + size;) {
        size_t len = strcspn(p, "\n");
        p[len] = '\0';
        argv[argc++] = p;
        p += len + 1;
    }
    argv[argc] = NULL;
    struct ml_options o;
    freopen("/dev/null", "w", stdout);        /* --help and --version print */
    (void)ml_options_parse(&o, argc, argv);
    ml_options_free(&o);
    free(buf);
    return 0;
}
