/* jsonr.c - a small JSON parser into a tree (see jsonr.h). */
#include "jsonr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The distinct keys of a tree, each held once (open addressing). */
struct keypool {
    char **slot;
    size_t cap, n;
};

/* What ml_jsonr_parse allocates: the root value and the keys it uses. */
struct tree {
    struct ml_jsonr root;       /* first: a root's address is its tree's */
    struct keypool keys;
};

struct parser {
    const char *p, *start, *end;
    char *err;
    size_t errlen;
    int failed;
    struct keypool *keys;
};

static int fail(struct parser *ps, int code, const char *fmt, ...)
{
    if (!ps->failed && ps->err && ps->errlen) {
        va_list ap;
        int n = snprintf(ps->err, ps->errlen, "offset %zu: ", (size_t)(ps->p - ps->start));
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < ps->errlen) vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    ps->failed = 1;
    errno = code;
    return -1;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, EINVAL, "unexpected character");
    ps->p += n;
    return 0;
}

/* ---- strings ------------------------------------------------------------- */

struct buf { char *s; size_t len, cap; };

static int buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        while (cap < b->len + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) return -1;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int hex4(struct parser *ps, unsigned *out)
{
    unsigned v = 0;
    if (ps->end - ps->p < 4) return fail(ps, EINVAL, "short \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(ps, EINVAL, "bad \\u escape");
    }
    *out = v;
    return 0;
}

static size_t utf8_encode(unsigned cp, char out[4])
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX, with a following low surrogate for a high one; a lone one is U+FFFD. */
static int unicode_escape(struct parser *ps, struct buf *b)
{
    unsigned cp, lo;
    char enc[4];
    if (hex4(ps, &cp) != 0) return -1;
    if (cp >= 0xD800 && cp < 0xDC00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
        const char *save = ps->p;
        ps->p += 2;
        if (hex4(ps, &lo) != 0) return -1;
        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        else ps->p = save, cp = 0xFFFD;
    } else if (cp >= 0xD800 && cp < 0xE000) {
        cp = 0xFFFD;
    }
    return buf_put(b, enc, utf8_encode(cp, enc)) == 0 ? 0 : fail(ps, ENOMEM, "out of memory");
}

static int parse_string(struct parser *ps, char **out, size_t *outlen)
{
    struct buf b = {0};
    ps->p++;                                /* the opening quote */
    if (buf_put(&b, "", 0) != 0) return fail(ps, ENOMEM, "out of memory");
    while (ps->p < ps->end && *ps->p != '"') {
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
            ps->p++;
        if (buf_put(&b, run, (size_t)(ps->p - run)) != 0) goto nomem;
        if (ps->p >= ps->end || *ps->p == '"') break;
        if ((unsigned char)*ps->p < 0x20) { fail(ps, EINVAL, "control character in a string"); goto bad; }
        if (++ps->p >= ps->end) break;      /* after the backslash */
        char c = *ps->p++, lit;
        switch (c) {
        case '"': case '\\': case '/': lit = c; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': if (unicode_escape(ps, &b) != 0) goto bad; continue;
        default: ps->p--; fail(ps, EINVAL, "bad escape"); goto bad;
        }
        if (buf_put(&b, &lit, 1) != 0) goto nomem;
    }
    if (ps->p >= ps->end) { fail(ps, EINVAL, "unterminated string"); goto bad; }
    ps->p++;
    *out = b.s;
    *outlen = b.len;
    return 0;
nomem:
    fail(ps, ENOMEM, "out of memory");
bad:
    free(b.s);
    return -1;
}

/* ---- keys ---------------------------------------------------------------- */

static size_t key_hash(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int pool_grow(struct keypool *kp)
{
    size_t cap = kp->cap ? kp->cap * 2 : 64;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    for (size_t i = 0; i < kp->cap; i++)
        if (kp->slot[i]) {
            size_t j = key_hash(kp->slot[i]) & (cap - 1);
            while (slot[j]) j = (j + 1) & (cap - 1);
            slot[j] = kp->slot[i];
        }
    free(kp->slot);
    kp->slot = slot;
    kp->cap = cap;
    return 0;
}

/* The pool's copy of key, which it takes over (freed when one is held). */
static const char *intern(struct parser *ps, char *key)
{
    struct keypool *kp = ps->keys;
    if ((kp->n + 1) * 2 > kp->cap && pool_grow(kp) != 0) {
        free(key);
        fail(ps, ENOMEM, "out of memory");
        return NULL;
    }
    size_t j = key_hash(key) & (kp->cap - 1);
    for (; kp->slot[j]; j = (j + 1) & (kp->cap - 1))
        if (strcmp(kp->slot[j], key) == 0) {
            free(key);
            return kp->slot[j];
        }
    kp->n++;
    return kp->slot[j] = key;
}

static void pool_free(struct keypool *kp)
{
    for (size_t i = 0; i < kp->cap; i++) free(kp->slot[i]);
    free(kp->slot);
}

/* ---- numbers ------------------------------------------------------------- */

static int parse_number(struct parser *ps, struct ml_jsonr *v)
{
    const char *s = ps->p;
    int is_int = 1;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, EINVAL, "bad number");
    if (*ps->p == '0') ps->p++;
    else while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        is_int = 0;
        if (++ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, EINVAL, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        is_int = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, EINVAL, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    char tmp[64];
    size_t n = (size_t)(ps->p - s);
    if (n >= sizeof tmp) n = sizeof tmp - 1;   /* a longer one is out of range anyway */
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    v->type = ML_JSON_NUMBER;
    v->d = strtod(tmp, NULL);
    v->negative = s[0] == '-';
    if (is_int) {
        errno = 0;
        if (v->negative) v->i = strtoll(tmp, NULL, 10);
        else v->u = strtoull(tmp, NULL, 10);
        v->is_int = errno == 0;
    }
    return 0;
}

/* ---- containers ---------------------------------------------------------- */

static int parse_value(struct parser *ps, struct ml_jsonr *v, int depth);

static int grow(struct parser *ps, struct ml_jsonr *v, size_t *cap, int with_keys)
{
    if (v->len < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    struct ml_jsonr *items = realloc(v->items, nc * sizeof *items);
    if (!items) return fail(ps, ENOMEM, "out of memory");
    v->items = items;
    if (with_keys) {
        const char **keys = realloc(v->keys, nc * sizeof *keys);
        if (!keys) return fail(ps, ENOMEM, "out of memory");
        v->keys = keys;
    }
    *cap = nc;
    return 0;
}

/* A finished container's arrays cut to its members (the doubling left up to
 * half of them unused); where realloc will not, they stay as they are. */
static void fit(struct ml_jsonr *v, size_t cap)
{
    if (cap == v->len) return;
    struct ml_jsonr *items = realloc(v->items, v->len * sizeof *items);
    if (items) v->items = items;
    if (v->keys) {
        const char **keys = realloc(v->keys, v->len * sizeof *keys);
        if (keys) v->keys = keys;
    }
}

/* '[' or '{' is at ps->p; members until the matching close. */
static int parse_container(struct parser *ps, struct ml_jsonr *v, int depth)
{
    int obj = *ps->p == '{';
    char close = obj ? '}' : ']';
    size_t cap = 0;
    v->type = obj ? ML_JSON_OBJECT : ML_JSON_ARRAY;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) { ps->p++; return 0; }
    for (;;) {
        if (grow(ps, v, &cap, obj) != 0) return -1;
        if (obj) {
            char *key;
            size_t klen;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, EINVAL, "expected a key");
            if (parse_string(ps, &key, &klen) != 0) return -1;
            if (!(v->keys[v->len] = intern(ps, key))) return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return fail(ps, EINVAL, "expected ':'");
            ps->p++;
        }
        memset(&v->items[v->len], 0, sizeof v->items[0]);
        v->len++;                      /* counted now: freed with the tree on error */
        if (parse_value(ps, &v->items[v->len - 1], depth + 1) != 0) return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            fit(v, cap);
            return 0;
        }
        return fail(ps, EINVAL, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(struct parser *ps, struct ml_jsonr *v, int depth)
{
    if (depth > ML_JSONR_MAX_DEPTH) return fail(ps, EINVAL, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, EINVAL, "unexpected end of input");
    switch (*ps->p) {
    case '{': case '[': return parse_container(ps, v, depth);
    case '"': v->type = ML_JSON_STRING; return parse_string(ps, &v->s, &v->len);
    case 't': v->type = ML_JSON_BOOL; v->b = 1; return literal(ps, "true");
    case 'f': v->type = ML_JSON_BOOL; return literal(ps, "false");
    case 'n': return literal(ps, "null");
    default: return parse_number(ps, v);
    }
}

/* Keys belong to the pool, not to the objects. */
static void free_members(struct ml_jsonr *v)
{
    if (v->type == ML_JSON_ARRAY || v->type == ML_JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) free_members(&v->items[i]);
        free(v->items);
        free(v->keys);
    } else if (v->type == ML_JSON_STRING) {
        free(v->s);
    }
}

void ml_jsonr_free(struct ml_jsonr *v)
{
    if (!v) return;
    struct tree *t = (struct tree *)v;
    free_members(&t->root);
    pool_free(&t->keys);
    free(t);
}

struct ml_jsonr *ml_jsonr_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct parser ps = {.p = text, .start = text, .end = text + len, .err = err, .errlen = errlen};
    struct tree *t = calloc(1, sizeof *t);
    if (!t) {
        fail(&ps, ENOMEM, "out of memory");
        return NULL;
    }
    struct ml_jsonr *v = &t->root;
    ps.keys = &t->keys;
    if (parse_value(&ps, v, 0) == 0) {
        skip_ws(&ps);
        if (ps.p == ps.end) return v;
        fail(&ps, EINVAL, "text after the value");
    }
    int saved = errno;
    ml_jsonr_free(v);
    errno = saved;
    return NULL;
}

/* ---- accessors ------------------------------------------------------------ */

const struct ml_jsonr *ml_jsonr_get(const struct ml_jsonr *obj, const char *key)
{
    if (!obj || obj->type != ML_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const struct ml_jsonr *ml_jsonr_at(const struct ml_jsonr *arr, size_t i)
{
    if (!arr || (arr->type != ML_JSON_ARRAY && arr->type != ML_JSON_OBJECT) || i >= arr->len)
        return NULL;
    return &arr->items[i];
}

size_t ml_jsonr_len(const struct ml_jsonr *arr)
{
    return arr && (arr->type == ML_JSON_ARRAY || arr->type == ML_JSON_OBJECT) ? arr->len : 0;
}

const char *ml_jsonr_str(const struct ml_jsonr *v)
{
    return v && v->type == ML_JSON_STRING ? v->s : NULL;
}

/* A number that is not an integer (2.5, 1e30, an integer too large for 64
 * bits) is truncated toward zero and held to the type's range. */
uint64_t ml_jsonr_uint(const struct ml_jsonr *v, uint64_t dflt)
{
    if (!v || v->type != ML_JSON_NUMBER || v->negative) return dflt;
    if (v->is_int) return v->u;
    return v->d >= 18446744073709551616.0 ? UINT64_MAX : v->d >= 0 ? (uint64_t)v->d : dflt;
}

int64_t ml_jsonr_int(const struct ml_jsonr *v, int64_t dflt)
{
    if (!v || v->type != ML_JSON_NUMBER) return dflt;
    if (v->is_int) return v->negative ? v->i : v->u > INT64_MAX ? INT64_MAX : (int64_t)v->u;
    if (v->d != v->d) return dflt;                                   /* NaN */
    return v->d >= 9223372036854775808.0 ? INT64_MAX : v->d < -9223372036854775808.0 ? INT64_MIN
                                                                                   : (int64_t)v->d;
}

double ml_jsonr_double(const struct ml_jsonr *v, double dflt)
{
    return v && v->type == ML_JSON_NUMBER ? v->d : dflt;
}

int ml_jsonr_bool(const struct ml_jsonr *v, int dflt)
{
    return v && v->type == ML_JSON_BOOL ? v->b : dflt;
}

uint64_t ml_jsonr_hex(const struct ml_jsonr *v, uint64_t dflt)
{
    const char *s = ml_jsonr_str(v);
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return dflt;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s + 2, &end, 16);
    return errno || *end || end == s + 2 ? dflt : (uint64_t)x;
}
