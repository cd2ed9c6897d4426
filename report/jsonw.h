/* jsonw.h - a small streaming JSON writer.
 *
 * Writes one JSON value to a stdio stream as the calls arrive: no tree is
 * built.  A nesting stack places commas and checks that keys and values
 * alternate inside objects.  Strings are escaped so that the output can be
 * embedded in an HTML <script> element: control characters, '"', '\\',
 * '<', '>', '&', U+2028 and U+2029 become escapes, and bytes that are not
 * valid UTF-8 become U+FFFD.  The writer owns no memory; the caller owns
 * the stream.
 *
 * Every call returns 0, or -1 with errno set: EINVAL for a call out of
 * place (a value where a key is due, a key in an array, an end that does
 * not match, a second top-level value), EOVERFLOW for nesting deeper than
 * ML_JSONW_MAX_DEPTH, EIO when the stream fails.  The first error sticks:
 * later calls do nothing and fail with it, so a caller may check only
 * ml_jsonw_finish.
 */
#ifndef ML_JSONW_H
#define ML_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ML_JSONW_MAX_DEPTH 32

struct ml_jsonw {               /* fields are private to jsonw.c */
    FILE *out;
    int pretty;                 /* newlines and two-space indents */
    int err;                    /* first error (errno value), 0 if none */
    unsigned depth;             /* open containers; level 0 is the top */
    unsigned char is_object[ML_JSONW_MAX_DEPTH + 1];
    unsigned char have_key[ML_JSONW_MAX_DEPTH + 1];
    uint32_t count[ML_JSONW_MAX_DEPTH + 1];   /* members written per level */
};

/* pretty: 0 for compact output, 1 for indented output. */
void ml_jsonw_init(struct ml_jsonw *w, FILE *out, int pretty);
/* Checks that exactly one complete value was written, ends a pretty
 * document with a newline and returns the first error, if any. */
int ml_jsonw_finish(struct ml_jsonw *w);

int ml_jsonw_begin_object(struct ml_jsonw *w);
int ml_jsonw_end_object(struct ml_jsonw *w);
int ml_jsonw_begin_array(struct ml_jsonw *w);
int ml_jsonw_end_array(struct ml_jsonw *w);
int ml_jsonw_key(struct ml_jsonw *w, const char *key);

int ml_jsonw_string(struct ml_jsonw *w, const char *s);        /* NULL: null */
int ml_jsonw_string_n(struct ml_jsonw *w, const char *s, size_t len);
int ml_jsonw_stringf(struct ml_jsonw *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ml_jsonw_uint(struct ml_jsonw *w, uint64_t v);
int ml_jsonw_int(struct ml_jsonw *w, int64_t v);
int ml_jsonw_double(struct ml_jsonw *w, double v);   /* NaN, inf: null */
int ml_jsonw_bool(struct ml_jsonw *w, int v);
int ml_jsonw_null(struct ml_jsonw *w);

/* A key and its value in one call. */
int ml_jsonw_key_string(struct ml_jsonw *w, const char *key, const char *s);
int ml_jsonw_key_uint(struct ml_jsonw *w, const char *key, uint64_t v);
int ml_jsonw_key_int(struct ml_jsonw *w, const char *key, int64_t v);
int ml_jsonw_key_double(struct ml_jsonw *w, const char *key, double v);
int ml_jsonw_key_bool(struct ml_jsonw *w, const char *key, int v);

#endif
