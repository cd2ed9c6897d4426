/* pprof.c - the report as a gzipped pprof profile (profile.proto).
 *
 * What `go tool pprof`, Pyroscope and Parca read.  One sample per loss
 * record of every process, with four values in the order of DESIGN's sample
 * types: leaked_objects/count, leaked_space/bytes (the record's blocks and
 * direct bytes when it is definitely or indirectly lost and not suppressed:
 * their totals are the leak summary's definite + indirect), inuse_objects,
 * inuse_space (every live block, suppressed ones too: their totals are the
 * live blocks and bytes at exit).  Labels say the kind, the pid and the
 * suppression.  Locations are the distinct code addresses of each process,
 * their lines the inlined frames first and the containing function last;
 * mappings are the executable file mappings at exit with their build-ids,
 * the program's own first.  docs/formats.md lists every field's source.
 *
 * Encodes with protobuf.c and compresses with zlib.  Owns its tables for
 * the time of one call; returns 0, or -1 with errno set (ENOMEM, EIO).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#define HASH_NONFATAL_OOM 1
#include <uthash.h>
#include "protobuf.h"
#include "render.h"
#include "stacktab.h"

/* profile.proto's field numbers. */
enum { P_SAMPLE_TYPE = 1, P_SAMPLE, P_MAPPING, P_LOCATION, P_FUNCTION, P_STRING_TABLE,
       P_DURATION_NANOS = 10, P_PERIOD_TYPE, P_PERIOD, P_COMMENT, P_DEFAULT_SAMPLE_TYPE };
enum { VT_TYPE = 1, VT_UNIT };
enum { S_LOCATION_ID = 1, S_VALUE, S_LABEL };
enum { L_KEY = 1, L_STR, L_NUM };
enum { M_ID = 1, M_START, M_LIMIT, M_OFFSET, M_FILENAME, M_BUILD_ID, M_HAS_FUNCTIONS,
       M_HAS_FILENAMES, M_HAS_LINE_NUMBERS, M_HAS_INLINE_FRAMES };
enum { LOC_ID = 1, LOC_MAPPING_ID, LOC_ADDRESS, LOC_LINE };
enum { LINE_FUNCTION_ID = 1, LINE_LINE };
enum { F_ID = 1, F_NAME, F_SYSTEM_NAME, F_FILENAME };

struct str_entry { UT_hash_handle hh; uint64_t index; char s[]; };
struct fn_entry { UT_hash_handle hh; uint64_t id; char key[]; };
struct loc_key { size_t proc; uint64_t address; };
struct loc_entry { UT_hash_handle hh; struct loc_key key; uint64_t id; };

struct mapping { uint64_t id, start, end; };

struct builder {
    struct ml_pb out;           /* the Profile message, strings last */
    struct ml_pb msg, sub;      /* scratch for one message and one inside it */
    struct str_entry *strings;  /* by text */
    struct str_entry **order;   /* by index */
    size_t nstrings, cap_strings;
    struct fn_entry *functions;
    uint64_t nfunctions;
    struct loc_entry *locations;
    uint64_t nlocations;
    struct mapping *maps;       /* of the process being written */
    size_t nmaps;
    uint64_t next_mapping;
    int err;
};

/* ---- tables ------------------------------------------------------------------ */

static uint64_t str_index(struct builder *b, const char *s)
{
    struct str_entry *e;
    size_t len = strlen(s);

    HASH_FIND(hh, b->strings, s, len, e);
    if (e)
        return e->index;
    if (b->nstrings == b->cap_strings) {
        size_t cap = b->cap_strings ? b->cap_strings * 2 : 256;
        struct str_entry **o = realloc(b->order, cap * sizeof *o);
        if (!o)
            goto oom;
        b->order = o;
        b->cap_strings = cap;
    }
    if (!(e = malloc(sizeof *e + len + 1)))
        goto oom;
    memcpy(e->s, s, len + 1);
    e->index = b->nstrings;
    HASH_ADD(hh, b->strings, s, len, e);
    if (!e->hh.tbl) {
        free(e);
        goto oom;
    }
    b->order[b->nstrings++] = e;
    return e->index;
oom:
    b->err = ENOMEM;
    return 0;
}

static void value_type(struct builder *b, unsigned field, const char *type, const char *unit)
{
    ml_pb_reset(&b->msg);
    ml_pb_varint_field(&b->msg, VT_TYPE, str_index(b, type));
    ml_pb_varint_field(&b->msg, VT_UNIT, str_index(b, unit));
    ml_pb_message_field(&b->out, field, &b->msg);
}

/* The id of the function (name, system name, file), added when new. */
static uint64_t function_id(struct builder *b, const struct ml_frame_out *f)
{
    const char *name = f->function ? f->function : "??";
    const char *sys = f->mangled ? f->mangled : name, *file = f->file ? f->file : "";
    size_t ln = strlen(name), ls = strlen(sys), lf = strlen(file), len = ln + ls + lf + 2;
    struct fn_entry *e = malloc(sizeof *e + len + 1);

    if (!e) {
        b->err = ENOMEM;
        return 0;
    }
    memcpy(e->key, name, ln + 1);
    memcpy(e->key + ln + 1, sys, ls + 1);
    memcpy(e->key + ln + ls + 2, file, lf + 1);
    struct fn_entry *old;
    HASH_FIND(hh, b->functions, e->key, len, old);
    if (old) {
        free(e);
        return old->id;
    }
    e->id = ++b->nfunctions;
    HASH_ADD(hh, b->functions, key, len, e);
    if (!e->hh.tbl) {
        free(e);
        b->err = ENOMEM;
        return 0;
    }
    ml_pb_reset(&b->msg);
    ml_pb_varint_field(&b->msg, F_ID, e->id);
    ml_pb_varint_field(&b->msg, F_NAME, str_index(b, name));
    ml_pb_varint_field(&b->msg, F_SYSTEM_NAME, str_index(b, sys));
    ml_pb_varint_nonzero(&b->msg, F_FILENAME, str_index(b, file));
    ml_pb_message_field(&b->out, P_FUNCTION, &b->msg);
    return e->id;
}

static uint64_t mapping_of(const struct builder *b, uint64_t address)
{
    for (size_t i = 0; i < b->nmaps; i++)
        if (address >= b->maps[i].start && address < b->maps[i].end)
            return b->maps[i].id;
    return 0;
}

/* The location of frames [0, n) (inlined ones, then their container), all
 * at one address; added when new.  Function ids are taken first: a
 * Function message must not be written inside the Location being built. */
static uint64_t location_id(struct builder *b, size_t proc, const struct ml_frame_out *const *f,
                            size_t n)
{
    struct loc_key key = {proc, f[n - 1]->address};
    struct loc_entry *e;
    uint64_t fids[64];

    HASH_FIND(hh, b->locations, &key, sizeof key, e);
    if (e)
        return e->id;
    if (n > sizeof fids / sizeof fids[0])
        n = sizeof fids / sizeof fids[0];
    for (size_t i = 0; i < n; i++)
        fids[i] = function_id(b, f[i]);
    if (!(e = calloc(1, sizeof *e))) {
        b->err = ENOMEM;
        return 0;
    }
    e->key = key;
    e->id = ++b->nlocations;
    HASH_ADD(hh, b->locations, key, sizeof key, e);
    if (!e->hh.tbl) {
        free(e);
        b->err = ENOMEM;
        return 0;
    }
    ml_pb_reset(&b->msg);
    ml_pb_varint_field(&b->msg, LOC_ID, e->id);
    ml_pb_varint_nonzero(&b->msg, LOC_MAPPING_ID, mapping_of(b, key.address));
    ml_pb_varint_field(&b->msg, LOC_ADDRESS, key.address);
    for (size_t i = 0; i < n && f[n - 1]->function; i++) {
        ml_pb_reset(&b->sub);
        ml_pb_varint_field(&b->sub, LINE_FUNCTION_ID, fids[i]);
        ml_pb_varint_nonzero(&b->sub, LINE_LINE, f[i]->line > 0 ? (uint64_t)f[i]->line : 0);
        ml_pb_message_field(&b->msg, LOC_LINE, &b->sub);
    }
    ml_pb_message_field(&b->out, P_LOCATION, &b->msg);
    return e->id;
}

/* ---- mappings ------------------------------------------------------------------ */

static void put_mapping(struct builder *b, const struct ml_region_out *r)
{
    struct mapping *m = &b->maps[b->nmaps++];

    m->id = ++b->next_mapping;
    m->start = r->start;
    m->end = r->end;
    ml_pb_reset(&b->msg);
    ml_pb_varint_field(&b->msg, M_ID, m->id);
    ml_pb_varint_field(&b->msg, M_START, r->start);
    ml_pb_varint_field(&b->msg, M_LIMIT, r->end);
    ml_pb_varint_nonzero(&b->msg, M_OFFSET, r->offset);
    ml_pb_varint_field(&b->msg, M_FILENAME, str_index(b, r->path));
    ml_pb_varint_nonzero(&b->msg, M_BUILD_ID, r->build_id ? str_index(b, r->build_id) : 0);
    for (unsigned field = M_HAS_FUNCTIONS; field <= M_HAS_INLINE_FRAMES; field++)
        ml_pb_varint_field(&b->msg, field, 1);
    ml_pb_message_field(&b->out, P_MAPPING, &b->msg);
}

/* The executable file mappings of p; the program's own first, since pprof
 * takes the first mapping for the main binary. */
static int put_mappings(struct builder *b, const struct ml_proc_report *p)
{
    b->nmaps = 0;
    free(b->maps);
    if (!(b->maps = calloc(p->nregions ? p->nregions : 1, sizeof *b->maps)))
        return -1;
    for (int own = 1; own >= 0; own--)
        for (size_t i = 0; i < p->nregions; i++) {
            const struct ml_region_out *r = &p->regions[i];
            int is_exe = p->exe && strcmp(r->path, p->exe) == 0;
            if (r->perms[2] == 'x' && r->path[0] == '/' && is_exe == own)
                put_mapping(b, r);
        }
    return 0;
}

/* ---- samples --------------------------------------------------------------------- */

static void put_label(struct builder *b, const char *key, const char *str, uint64_t num)
{
    ml_pb_reset(&b->sub);
    ml_pb_varint_field(&b->sub, L_KEY, str_index(b, key));
    if (str)
        ml_pb_varint_field(&b->sub, L_STR, str_index(b, str));
    else
        ml_pb_varint_field(&b->sub, L_NUM, num);
    ml_pb_message_field(&b->msg, S_LABEL, &b->sub);
}

/* Location ids of a stack, leaf first: a location per non-inlined frame,
 * holding the inlined frames just before it. */
static size_t stack_locations(struct builder *b, size_t proc, const struct ml_stack_out *st,
                              uint64_t *ids)
{
    size_t n = 0, first = 0;
    const struct ml_frame_out **fr = ml_stack_view(st);

    if (st->nframes && !fr) {
        b->err = ENOMEM;
        return 0;
    }
    for (size_t i = 0; i < st->nframes; i++)
        if (!fr[i]->inlined || i + 1 == st->nframes) {
            ids[n++] = location_id(b, proc, fr + first, i + 1 - first);
            first = i + 1;
        }
    free(fr);
    return n;
}

static void put_sample(struct builder *b, size_t proc, const struct ml_proc_report *p,
                       const struct ml_leak_record *rec)
{
    int leaked = !rec->suppressed && (rec->kind == ML_LK_DEFINITE || rec->kind == ML_LK_INDIRECT);
    uint64_t values[4] = {leaked ? rec->blocks : 0, leaked ? rec->bytes : 0,
                          rec->blocks, rec->bytes};
    uint64_t *ids = calloc(rec->stack.nframes ? rec->stack.nframes : 1, sizeof *ids);

    if (!ids) {
        b->err = ENOMEM;
        return;
    }
    size_t n = stack_locations(b, proc, &rec->stack, ids);
    ml_pb_reset(&b->msg);
    ml_pb_packed_field(&b->msg, S_LOCATION_ID, ids, n);
    ml_pb_packed_field(&b->msg, S_VALUE, values, 4);
    put_label(b, "kind", ml_leak_kind_key(rec->kind), 0);
    put_label(b, "pid", NULL, (uint64_t)p->pid);
    if (rec->suppressed && rec->suppression)
        put_label(b, "suppressed", rec->suppression, 0);
    ml_pb_message_field(&b->out, P_SAMPLE, &b->msg);
    free(ids);
}

/* ---- the profile ------------------------------------------------------------------ */

static void put_header(struct builder *b, const struct ml_report *r, const struct ml_render_opts *o)
{
    static const char *const types[4][2] = {
        {"leaked_objects", "count"}, {"leaked_space", "bytes"},
        {"inuse_objects", "count"}, {"inuse_space", "bytes"},
    };
    char line[256];
    size_t len = 0;

    str_index(b, "");                               /* string_table[0] must be "" */
    for (int i = 0; i < 4; i++)
        value_type(b, P_SAMPLE_TYPE, types[i][0], types[i][1]);
    value_type(b, P_PERIOD_TYPE, "space", "bytes");
    ml_pb_varint_field(&b->out, P_PERIOD, 1);
    ml_pb_varint_field(&b->out, P_DEFAULT_SAMPLE_TYPE, str_index(b, "leaked_space"));
    snprintf(line, sizeof line, "memlens %s", o && o->tool_version ? o->tool_version : "");
    ml_pb_varint_field(&b->out, P_COMMENT, str_index(b, line));
    line[0] = '\0';
    for (char *const *a = r->command; a && *a && len + 1 < sizeof line; a++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", *a);
    if (line[0])
        ml_pb_varint_field(&b->out, P_COMMENT, str_index(b, line));
}

static void build(struct builder *b, const struct ml_report *r, const struct ml_render_opts *o)
{
    double duration = 0;

    put_header(b, r, o);
    for (size_t i = 0; i < r->nprocs && !b->err; i++) {
        const struct ml_proc_report *p = &r->procs[i];
        if (put_mappings(b, p) != 0) {
            b->err = ENOMEM;
            break;
        }
        for (size_t j = 0; j < p->nrecords && !b->err; j++)
            put_sample(b, i, p, &p->records[j]);
        if (p->duration > duration)
            duration = p->duration;
    }
    ml_pb_varint_nonzero(&b->out, P_DURATION_NANOS, (uint64_t)(duration * 1e9));
    for (size_t i = 0; i < b->nstrings; i++)
        ml_pb_string_field(&b->out, P_STRING_TABLE, b->order[i]->s);
}

static void builder_free(struct builder *b)
{
    struct str_entry *s, *stmp;
    struct fn_entry *f, *ftmp;
    struct loc_entry *l, *ltmp;

    HASH_ITER(hh, b->strings, s, stmp) { HASH_DEL(b->strings, s); free(s); }
    HASH_ITER(hh, b->functions, f, ftmp) { HASH_DEL(b->functions, f); free(f); }
    HASH_ITER(hh, b->locations, l, ltmp) { HASH_DEL(b->locations, l); free(l); }
    free(b->order);
    free(b->maps);
    ml_pb_free(&b->out);
    ml_pb_free(&b->msg);
    ml_pb_free(&b->sub);
}

/* gzip (RFC 1952) of data, to out. */
static int write_gzip(FILE *out, const unsigned char *data, size_t len)
{
    unsigned char chunk[16384];
    z_stream z = {0};
    int rc;

    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, Z_FINISH);
        size_t n = sizeof chunk - z.avail_out;
        if (n && fwrite(chunk, 1, n, out) != n) {
            deflateEnd(&z);
            return -EIO;
        }
    } while (rc == Z_OK);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -EIO;
}

int ml_render_pprof(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    struct builder b;
    int rc;

    memset(&b, 0, sizeof b);
    build(&b, r, o);
    rc = b.err || b.out.err ? -ENOMEM : write_gzip(out, b.out.buf, b.out.len);
    builder_free(&b);
    if (rc == 0 && ferror(out))
        rc = -EIO;
    if (rc) {
        errno = -rc;
        return -1;
    }
    return 0;
}
