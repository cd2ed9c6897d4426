/* jsonr.h - a small JSON parser: text in, a tree of values out.
 *
 * The reading half of jsonw: parses one RFC 8259 document (UTF-8; \u
 * escapes, surrogate pairs included, become UTF-8) into a tree that the
 * caller walks with the accessors below.  Integers without fraction or
 * exponent are kept exactly (64 bits, signed or unsigned); other numbers
 * as doubles.  Nesting deeper than ML_JSONR_MAX_DEPTH is refused, so no
 * input can exhaust the stack.  The tree owns every string and array in
 * it; ml_jsonr_free releases it all.  Errors are returned with a message
 * ("offset 120: expected ':'") in the caller's buffer; nothing is printed.
 */
#ifndef ML_JSONR_H
#define ML_JSONR_H

#include <stddef.h>
#include <stdint.h>

#define ML_JSONR_MAX_DEPTH 64

enum ml_jsonr_type { ML_JSON_NULL = 0, ML_JSON_BOOL, ML_JSON_NUMBER, ML_JSON_STRING,
                     ML_JSON_ARRAY, ML_JSON_OBJECT };

struct ml_jsonr {                /* 32 bytes: a large report is millions of them */
    unsigned char type;         /* enum ml_jsonr_type */
    unsigned char b;            /* BOOL */
    unsigned char is_int;       /* NUMBER: an integer that fit in 64 bits */
    unsigned char negative;     /* ... below zero: i holds it, else u */
    size_t len;                 /* STRING bytes, ARRAY and OBJECT members */
    union {
        struct {                /* NUMBER */
            double d;           /* always */
            union { int64_t i; uint64_t u; };
        };
        char *s;                /* STRING (NUL-terminated; may hold NULs, see len) */
        struct {                /* ARRAY and OBJECT members */
            struct ml_jsonr *items;
            const char **keys;  /* OBJECT: keys[i] names items[i]; each distinct key
                                   is held once for the whole tree */
        };
    };
};

/* Parse text[0..len); the whole text must be one value (whitespace
 * around it allowed).  Returns the tree, or NULL with the cause in err
 * (errno ENOMEM or EINVAL).  Only such a tree's root goes to ml_jsonr_free. */
struct ml_jsonr *ml_jsonr_parse(const char *text, size_t len, char *err, size_t errlen);
void ml_jsonr_free(struct ml_jsonr *v);

/* Accessors: each takes NULL or a value of another type and then returns
 * NULL, the default or 0, so that a walk needs no checks of its own. */
const struct ml_jsonr *ml_jsonr_get(const struct ml_jsonr *obj, const char *key);
const struct ml_jsonr *ml_jsonr_at(const struct ml_jsonr *arr, size_t i);
size_t ml_jsonr_len(const struct ml_jsonr *arr);            /* ARRAY or OBJECT */
const char *ml_jsonr_str(const struct ml_jsonr *v);         /* STRING, else NULL */
uint64_t ml_jsonr_uint(const struct ml_jsonr *v, uint64_t dflt);
int64_t ml_jsonr_int(const struct ml_jsonr *v, int64_t dflt);
double ml_jsonr_double(const struct ml_jsonr *v, double dflt);
int ml_jsonr_bool(const struct ml_jsonr *v, int dflt);
/* A "0x..." string as a number (addresses), else dflt. */
uint64_t ml_jsonr_hex(const struct ml_jsonr *v, uint64_t dflt);

#endif
