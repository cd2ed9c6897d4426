/* sarif.c - the leaks of the error kinds as a SARIF 2.1.0 log.
 *
 * What GitHub code scanning and other SARIF viewers read: one run of the
 * tool "memlens" with a rule per leak kind (its id the kind's JSON key,
 * "definite"...), and one result per unsuppressed loss record of the error
 * kinds (--errors-for-leak-kinds), of every process.  A result is located
 * at the first frame of the stack in the program's own source: a frame with
 * a file and line that is neither the allocator, nor in a system library
 * (/lib, /usr/lib), nor in a system header (/usr/include), so the viewer
 * shows the line that allocated.  The whole stack is its code flow, and
 * partialFingerprints carries a hash of the kind and the stack's functions,
 * files and lines, stable from run to run of one build.  docs/formats.md
 * lists every field's source.  Owns nothing; writes through jsonw and
 * returns its first error.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "jsonw.h"
#include "render.h"
#include "stacktab.h"

#define SARIF_SCHEMA "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define FINGERPRINT_KEY "memlensStack/v1"

static const char *const rule_names[ML_LK_COUNT] = {
    [ML_LK_REACHABLE] = "StillReachable", [ML_LK_POSSIBLE] = "PossiblyLost",
    [ML_LK_INDIRECT] = "IndirectlyLost", [ML_LK_DEFINITE] = "DefinitelyLost",
};

static const char *const rule_texts[ML_LK_COUNT] = {
    [ML_LK_REACHABLE] = "Memory still reachable at exit: a pointer to the block's start was found.",
    [ML_LK_POSSIBLE] = "Memory possibly lost: only pointers into the middle of the block were found.",
    [ML_LK_INDIRECT] = "Memory indirectly lost: reachable only through definitely lost blocks.",
    [ML_LK_DEFINITE] = "Memory definitely lost: no pointer to the block was found at exit.",
};

/* Rules are listed most severe first; the index of kind k among them. */
static int rule_index(enum ml_leak_kind k)
{
    return ML_LK_COUNT - 1 - (int)k;
}

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int system_path(const char *path)
{
    static const char *const dirs[] = {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/",
                                       "/usr/include/", "/usr/local/include/"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (has_prefix(path, dirs[i]))
            return 1;
    return 0;
}

/* The program's own source: frames[0] is the allocator, never the program. */
static const struct ml_frame_out *own_frame(const struct ml_stack_out *st)
{
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes; i++) {
        const struct ml_frame_out *f = ml_stack_node(st->tab, node, &node);
        if (i > 0 && f->file && f->file[0] == '/' && f->line > 0 && !system_path(f->file) &&
            !system_path(f->module))
            return f;
    }
    return NULL;
}

/* ---- URIs ------------------------------------------------------------------- */

/* "file://" and the path with every byte outside RFC 3986's unreserved set
 * (and '/') percent-encoded. */
static void key_file_uri(struct ml_jsonw *w, const char *key, const char *path)
{
    char uri[3 * 4096 + 8];
    size_t n = 0;

    memcpy(uri, "file://", 7);
    n = 7;
    for (const unsigned char *s = (const unsigned char *)path; *s && n + 4 < sizeof uri; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("-._~/", *s))
            uri[n++] = (char)*s;
        else
            n += (size_t)snprintf(uri + n, sizeof uri - n, "%%%02X", *s);
    }
    uri[n] = '\0';
    ml_jsonw_key_string(w, key, uri);
}

/* ---- locations ------------------------------------------------------------------ */

static void key_message(struct ml_jsonw *w, const char *key, const char *text)
{
    ml_jsonw_key(w, key);
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "text", text);
    ml_jsonw_end_object(w);
}

static void physical_location(struct ml_jsonw *w, const struct ml_frame_out *f)
{
    ml_jsonw_key(w, "physicalLocation");
    ml_jsonw_begin_object(w);
    ml_jsonw_key(w, "artifactLocation");
    ml_jsonw_begin_object(w);
    key_file_uri(w, "uri", f->file ? f->file : f->module);
    ml_jsonw_end_object(w);
    if (f->file && f->line > 0) {
        ml_jsonw_key(w, "region");
        ml_jsonw_begin_object(w);
        ml_jsonw_key_int(w, "startLine", f->line);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_object(w);
}

static void logical_location(struct ml_jsonw *w, const struct ml_frame_out *f)
{
    ml_jsonw_key(w, "logicalLocations");
    ml_jsonw_begin_array(w);
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "fullyQualifiedName", f->function);
    if (f->mangled)
        ml_jsonw_key_string(w, "decoratedName", f->mangled);
    ml_jsonw_key_string(w, "kind", "function");
    ml_jsonw_end_object(w);
    ml_jsonw_end_array(w);
}

/* A location object for frame f; with_message: say "fn (file:line)". */
static void location(struct ml_jsonw *w, const struct ml_frame_out *f, int with_message)
{
    const char *file = f->file ? strrchr(f->file, '/') : NULL;

    ml_jsonw_begin_object(w);
    if (f->file || (f->module && f->module[0] == '/'))
        physical_location(w, f);
    if (f->function)
        logical_location(w, f);
    if (with_message) {
        ml_jsonw_key(w, "message");
        ml_jsonw_begin_object(w);
        ml_jsonw_key(w, "text");
        if (f->file && f->line > 0)
            ml_jsonw_stringf(w, "%s (%s:%d)", f->function ? f->function : "???",
                             file ? file + 1 : f->file, f->line);
        else
            ml_jsonw_stringf(w, "%s (in %s)", f->function ? f->function : "???",
                             f->module ? f->module : "???");
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_object(w);
}

static void code_flow(struct ml_jsonw *w, const struct ml_stack_out *st)
{
    ml_jsonw_key(w, "codeFlows");
    ml_jsonw_begin_array(w);
    ml_jsonw_begin_object(w);
    key_message(w, "message", "Allocation stack, innermost frame first.");
    ml_jsonw_key(w, "threadFlows");
    ml_jsonw_begin_array(w);
    ml_jsonw_begin_object(w);
    ml_jsonw_key(w, "locations");
    ml_jsonw_begin_array(w);
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes; i++) {
        ml_jsonw_begin_object(w);
        ml_jsonw_key(w, "location");
        location(w, ml_stack_node(st->tab, node, &node), 1);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
    ml_jsonw_end_array(w);
    ml_jsonw_end_object(w);
    ml_jsonw_end_array(w);
}

/* ---- fingerprints ---------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); ; p++) {
        h = (h ^ *p) * 0x100000001b3ull;     /* the terminating NUL separates fields */
        if (!*p)
            return h;
    }
}

/* Kind, then per frame: function (linkage name when known), file's base name, line. */
static uint64_t stack_fingerprint(const struct ml_leak_record *rec)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, ml_leak_kind_key(rec->kind));
    char line[16];

    uint32_t node = rec->stack.top;
    for (size_t i = 0; i < rec->stack.nframes; i++) {
        const struct ml_frame_out *f = ml_stack_node(rec->stack.tab, node, &node);
        const char *base = f->file ? strrchr(f->file, '/') : NULL;
        h = fnv1a(h, f->mangled ? f->mangled : f->function);
        h = fnv1a(h, base ? base + 1 : f->file);
        snprintf(line, sizeof line, "%d", f->line);
        h = fnv1a(h, line);
    }
    return h;
}

/* ---- results ---------------------------------------------------------------------- */

static void result(struct ml_jsonw *w, const struct ml_proc_report *p,
                   const struct ml_leak_record *rec, size_t index)
{
    char title[192];
    const struct ml_frame_out *own = own_frame(&rec->stack);

    ml_loss_record_title(title, sizeof title, rec, index, p->nrecords);
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "ruleId", ml_leak_kind_key(rec->kind));
    ml_jsonw_key_int(w, "ruleIndex", rule_index(rec->kind));
    ml_jsonw_key_string(w, "level", "error");
    key_message(w, "message", title);
    ml_jsonw_key(w, "locations");
    ml_jsonw_begin_array(w);
    if (own)
        location(w, own, 0);
    ml_jsonw_end_array(w);
    code_flow(w, &rec->stack);
    ml_jsonw_key(w, "partialFingerprints");
    ml_jsonw_begin_object(w);
    ml_jsonw_key(w, FINGERPRINT_KEY);
    ml_jsonw_stringf(w, "%016" PRIx64, stack_fingerprint(rec));
    ml_jsonw_end_object(w);
    ml_jsonw_key(w, "properties");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_int(w, "pid", p->pid);
    ml_jsonw_key_uint(w, "blocks", rec->blocks);
    ml_jsonw_key_uint(w, "bytes", rec->bytes);
    ml_jsonw_key_uint(w, "indirectBytes", rec->indirect_bytes);
    ml_jsonw_end_object(w);
    ml_jsonw_end_object(w);
}

static void results(struct ml_jsonw *w, const struct ml_report *r, unsigned kinds)
{
    ml_jsonw_key(w, "results");
    ml_jsonw_begin_array(w);
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ml_proc_report *p = &r->procs[i];
        for (size_t j = 0; p->scanned && j < p->nrecords; j++) {
            const struct ml_leak_record *rec = &p->records[j];
            if (!rec->suppressed && (unsigned)rec->kind < ML_LK_COUNT &&
                (kinds & (1u << rec->kind)))
                result(w, p, rec, j + 1);
        }
    }
    ml_jsonw_end_array(w);
}

/* ---- the log ------------------------------------------------------------------------ */

static void rules(struct ml_jsonw *w, unsigned kinds)
{
    ml_jsonw_key(w, "rules");
    ml_jsonw_begin_array(w);
    for (int k = ML_LK_COUNT - 1; k >= 0; k--) {
        ml_jsonw_begin_object(w);
        ml_jsonw_key_string(w, "id", ml_leak_kind_key((enum ml_leak_kind)k));
        ml_jsonw_key_string(w, "name", rule_names[k]);
        key_message(w, "shortDescription", ml_leak_kind_text((enum ml_leak_kind)k));
        key_message(w, "fullDescription", rule_texts[k]);
        ml_jsonw_key(w, "defaultConfiguration");
        ml_jsonw_begin_object(w);
        ml_jsonw_key_string(w, "level", kinds & (1u << k) ? "error" : "note");
        ml_jsonw_end_object(w);
        ml_jsonw_end_object(w);
    }
    ml_jsonw_end_array(w);
}

static void tool(struct ml_jsonw *w, const struct ml_render_opts *o)
{
    ml_jsonw_key(w, "tool");
    ml_jsonw_begin_object(w);
    ml_jsonw_key(w, "driver");
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "name", "memlens");
    if (o && o->tool_version) {
        ml_jsonw_key_string(w, "version", o->tool_version);
        ml_jsonw_key_string(w, "semanticVersion", o->tool_version);
    }
    rules(w, o ? o->error_kinds : 0);
    ml_jsonw_end_object(w);
    ml_jsonw_end_object(w);
}

static void invocation(struct ml_jsonw *w, const struct ml_report *r)
{
    ml_jsonw_key(w, "invocations");
    ml_jsonw_begin_array(w);
    ml_jsonw_begin_object(w);
    ml_jsonw_key(w, "arguments");
    ml_jsonw_begin_array(w);
    for (char *const *a = r->command; a && *a; a++)
        ml_jsonw_string(w, *a);
    ml_jsonw_end_array(w);
    ml_jsonw_key_bool(w, "executionSuccessful", 1);
    ml_jsonw_end_object(w);
    ml_jsonw_end_array(w);
}

int ml_render_sarif(FILE *out, const struct ml_report *r, const struct ml_render_opts *o)
{
    struct ml_jsonw w;

    ml_jsonw_init(&w, out, 0);
    ml_jsonw_begin_object(&w);
    ml_jsonw_key_string(&w, "$schema", SARIF_SCHEMA);
    ml_jsonw_key_string(&w, "version", "2.1.0");
    ml_jsonw_key(&w, "runs");
    ml_jsonw_begin_array(&w);
    ml_jsonw_begin_object(&w);
    tool(&w, o);
    invocation(&w, r);
    results(&w, r, o ? o->error_kinds : 0);
    ml_jsonw_end_object(&w);
    ml_jsonw_end_array(&w);
    ml_jsonw_end_object(&w);
    return ml_jsonw_finish(&w);
}
