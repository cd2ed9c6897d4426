/* jsonw.c - a small streaming JSON writer (see jsonw.h).
 *
 * Owns nothing but the nesting state inside struct ml_jsonw; every byte
 * goes straight to the caller's stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "jsonw.h"
#include "utf8.h"

static int fail(struct ml_jsonw *w, int err)
{
    if (!w->err)
        w->err = err;
    errno = w->err;
    return -1;
}

static int failed(struct ml_jsonw *w)
{
    if (!w->err)
        return 0;
    errno = w->err;
    return -1;
}

static void put(struct ml_jsonw *w, const char *s, size_t n)
{
    if (n && fwrite(s, 1, n, w->out) != n && !w->err)
        w->err = EIO;
}

static void puts_(struct ml_jsonw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void newline_indent(struct ml_jsonw *w, unsigned level)
{
    static const char spaces[] = "                                ";
    put(w, "\n", 1);
    for (unsigned n = level * 2; n > 0;) {
        unsigned k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        put(w, spaces, k);
        n -= k;
    }
}

/* The separator and indent before a new member of the innermost container. */
static void separate(struct ml_jsonw *w)
{
    unsigned level = w->depth;
    if (w->count[level] > 0)
        put(w, ",", 1);
    if (w->pretty && level > 0)
        newline_indent(w, level);
    w->count[level]++;
}

/* Called before every value: checks its place and writes its separator. */
static int begin_value(struct ml_jsonw *w)
{
    unsigned level = w->depth;
    if (failed(w))
        return -1;
    if (w->is_object[level]) {
        if (!w->have_key[level])
            return fail(w, EINVAL);
        w->have_key[level] = 0;
        return 0;
    }
    if (level == 0 && w->count[0] > 0)
        return fail(w, EINVAL);
    separate(w);
    return 0;
}

static int done(struct ml_jsonw *w)
{
    if (!w->err && ferror(w->out))
        w->err = EIO;
    return failed(w);
}

void ml_jsonw_init(struct ml_jsonw *w, FILE *out, int pretty)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = pretty;
}

int ml_jsonw_finish(struct ml_jsonw *w)
{
    if (failed(w))
        return -1;
    if (w->depth != 0 || w->count[0] != 1)
        return fail(w, EINVAL);
    if (w->pretty)
        put(w, "\n", 1);
    return done(w);
}

/* ---- containers and keys ------------------------------------------------ */

static int begin(struct ml_jsonw *w, int is_object)
{
    if (failed(w))
        return -1;
    if (w->depth >= ML_JSONW_MAX_DEPTH)
        return fail(w, EOVERFLOW);
    if (begin_value(w) < 0)
        return -1;
    put(w, is_object ? "{" : "[", 1);
    w->depth++;
    w->is_object[w->depth] = (unsigned char)is_object;
    w->have_key[w->depth] = 0;
    w->count[w->depth] = 0;
    return done(w);
}

static int end(struct ml_jsonw *w, int is_object)
{
    unsigned level = w->depth;
    if (failed(w))
        return -1;
    if (level == 0 || w->is_object[level] != is_object || w->have_key[level])
        return fail(w, EINVAL);
    if (w->pretty && w->count[level] > 0)
        newline_indent(w, level - 1);
    put(w, is_object ? "}" : "]", 1);
    w->depth--;
    return done(w);
}

int ml_jsonw_begin_object(struct ml_jsonw *w) { return begin(w, 1); }
int ml_jsonw_end_object(struct ml_jsonw *w) { return end(w, 1); }
int ml_jsonw_begin_array(struct ml_jsonw *w) { return begin(w, 0); }
int ml_jsonw_end_array(struct ml_jsonw *w) { return end(w, 0); }

static void put_string(struct ml_jsonw *w, const char *s, size_t len);

int ml_jsonw_key(struct ml_jsonw *w, const char *key)
{
    unsigned level = w->depth;
    if (failed(w))
        return -1;
    if (!key || level == 0 || !w->is_object[level] || w->have_key[level])
        return fail(w, EINVAL);
    separate(w);
    put_string(w, key, strlen(key));
    put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
    w->have_key[level] = 1;
    return done(w);
}

/* ---- strings ------------------------------------------------------------ */

/* The escape for an ASCII byte, or NULL when it is written as is. */
static const char *ascii_escape(unsigned char c, char buf[8])
{
    switch (c) {
    case '"':  return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '<': case '>': case '&': case 0x7f:
        break;
    default:
        if (c >= 0x20)
            return NULL;
    }
    snprintf(buf, 8, "\\u%04x", c);
    return buf;
}

/* The escape for the character at s (len bytes), or NULL to copy it. */
static const char *char_escape(const unsigned char *s, size_t len, char buf[8])
{
    if (len == 1)
        return ascii_escape(s[0], buf);
    if (len == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
        return s[2] == 0xA8 ? "\\u2028" : "\\u2029";   /* JS line breaks */
    return NULL;
}

static void put_string(struct ml_jsonw *w, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *run = s;
    const unsigned char *e = s + len;
    char buf[8];

    put(w, "\"", 1);
    while (s < e) {
        size_t skip = 0, n = ml_utf8_len(s, (size_t)(e - s), &skip);
        const char *esc = n ? char_escape(s, n, buf) : ML_UTF8_REPLACEMENT;
        if (!esc) {
            s += n;
            continue;
        }
        put(w, (const char *)run, (size_t)(s - run));
        puts_(w, esc);
        s += n ? n : skip;
        run = s;
    }
    put(w, (const char *)run, (size_t)(s - run));
    put(w, "\"", 1);
}

int ml_jsonw_string_n(struct ml_jsonw *w, const char *s, size_t len)
{
    if (!s)
        return ml_jsonw_null(w);
    if (begin_value(w) < 0)
        return -1;
    put_string(w, s, len);
    return done(w);
}

int ml_jsonw_string(struct ml_jsonw *w, const char *s)
{
    return ml_jsonw_string_n(w, s, s ? strlen(s) : 0);
}

int ml_jsonw_stringf(struct ml_jsonw *w, const char *fmt, ...)
{
    char small[256], *s = small;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(w, EINVAL);
    if ((size_t)n >= sizeof small) {
        if (!(s = malloc((size_t)n + 1)))
            return fail(w, ENOMEM);
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    int rc = ml_jsonw_string_n(w, s, (size_t)n);
    if (s != small)
        free(s);
    return rc;
}

/* ---- numbers and literals ----------------------------------------------- */

static int put_literal(struct ml_jsonw *w, const char *text)
{
    if (begin_value(w) < 0)
        return -1;
    puts_(w, text);
    return done(w);
}

int ml_jsonw_uint(struct ml_jsonw *w, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return put_literal(w, buf);
}

int ml_jsonw_int(struct ml_jsonw *w, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return put_literal(w, buf);
}

/* The shortest %g form that reads back as v, with a '.' whatever the
 * locale, and ".0" added to integral values so they still read as reals. */
static void format_double(double v, char buf[40])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 40, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    char *comma = strchr(buf, ',');
    if (comma)
        *comma = '.';
    if (!strpbrk(buf, ".eE"))
        strcat(buf, ".0");
}

int ml_jsonw_double(struct ml_jsonw *w, double v)
{
    char buf[40];
    if (!isfinite(v))
        return ml_jsonw_null(w);
    format_double(v, buf);
    return put_literal(w, buf);
}

int ml_jsonw_bool(struct ml_jsonw *w, int v)
{
    return put_literal(w, v ? "true" : "false");
}

int ml_jsonw_null(struct ml_jsonw *w)
{
    return put_literal(w, "null");
}

/* ---- key and value in one call ------------------------------------------ */

int ml_jsonw_key_string(struct ml_jsonw *w, const char *key, const char *s)
{
    return ml_jsonw_key(w, key) < 0 ? -1 : ml_jsonw_string(w, s);
}

int ml_jsonw_key_uint(struct ml_jsonw *w, const char *key, uint64_t v)
{
    return ml_jsonw_key(w, key) < 0 ? -1 : ml_jsonw_uint(w, v);
}

int ml_jsonw_key_int(struct ml_jsonw *w, const char *key, int64_t v)
{
    return ml_jsonw_key(w, key) < 0 ? -1 : ml_jsonw_int(w, v);
}

int ml_jsonw_key_double(struct ml_jsonw *w, const char *key, double v)
{
    return ml_jsonw_key(w, key) < 0 ? -1 : ml_jsonw_double(w, v);
}

int ml_jsonw_key_bool(struct ml_jsonw *w, const char *key, int v)
{
    return ml_jsonw_key(w, key) < 0 ? -1 : ml_jsonw_bool(w, v);
}
