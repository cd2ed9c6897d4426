/* test_render.c - unit tests for report/jsonw.c, json.c, text.c, xml.c, sarif.c, model.c.
 *
 * Builds a small report by hand (one process, three loss records of
 * different kinds, strings that need escaping) and checks the exact JSON
 * members and the exact memcheck-like text lines it renders to.  When
 * python3 is installed, the JSON is also parsed by Python's json module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "jsonw.h"
#include "render.h"
#include "stacktab.h"
#include "strpool.h"

#define SHOW(k) (1u << (k))
#define SHOW_DEFAULT (SHOW(ML_LK_DEFINITE) | SHOW(ML_LK_POSSIBLE))
#define SHOW_ALL (SHOW_DEFAULT | SHOW(ML_LK_INDIRECT) | SHOW(ML_LK_REACHABLE))
#define LIBMEMLENS "/usr/lib/memlens/libmemlens.so"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define ARG_SCRIPT "<script>alert(1)</script>"
#define ARG_QUOTE "quote\"back\\slash\ttab\x01" "ctl"
#define ARG_UTF8 "caf\xc3\xa9 \xff\xfe" " bad"

/* ---- fixture ------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    assert_true(!s || d);
    return d;
}

static char **strv(const char *const *v, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        out[i] = dup_or_null(v[i]);
    return out;
}

struct fr { uint64_t addr; const char *fn, *file; int line; const char *mod; int inl; };

/* The table's copy of s (NULL for NULL). */
static char *pooled(struct ml_proc_report *p, const char *s)
{
    if (!s) return NULL;
    char *c = ml_strpool_get(ml_stacktab_strings(p->stacks), s);
    assert_non_null(c);
    return c;
}

static void set_stack(struct ml_proc_report *p, struct ml_leak_record *rec, const struct fr *f,
                      size_t n)
{
    struct ml_frame_out fr[8] = {{0}};
    assert_true(n <= 8);
    if (!p->stacks) p->stacks = ml_stacktab_new();
    assert_non_null(p->stacks);
    for (size_t i = 0; i < n; i++) {
        struct ml_frame_out *o = &fr[i];
        o->address = f[i].addr;
        o->function = pooled(p, f[i].fn);
        o->file = pooled(p, f[i].file);
        o->line = f[i].line;
        o->module = pooled(p, f[i].mod);
        o->inlined = f[i].inl;
    }
    assert_int_equal(ml_stacktab_put(p->stacks, fr, n, &rec->stack), 0);
}

/* Give frame i of rec's stack another file. */
static void set_frame_file(struct ml_proc_report *p, struct ml_leak_record *rec, size_t i,
                           const char *file)
{
    struct ml_frame_out fr[8];
    const struct ml_frame_out *v[8];
    size_t n = rec->stack.nframes;
    assert_true(i < n && n <= 8);
    ml_stack_frames(&rec->stack, v);
    for (size_t k = 0; k < n; k++) fr[k] = *v[k];
    fr[i].file = pooled(p, file);
    assert_int_equal(ml_stacktab_put(p->stacks, fr, n, &rec->stack), 0);
}

static const struct fr stack_indirect[] = {
    { 0x48417b4, "malloc", NULL, 0, LIBMEMLENS, 0 },
    { 0x109176, "make_node", "/home/u/src/list.c", 7, "/home/u/src/leaky", 0 },
    { 0x1091a0, "main", "/home/u/src/leaky.c", 20, "/home/u/src/leaky", 0 },
};
static const struct fr stack_definite[] = {
    { 0x48417b4, "malloc", NULL, 0, LIBMEMLENS, 0 },
    { 0x109150, "leak_one", "/home/u/src/leaky.c", 12, "/home/u/src/leaky", 1 },
    { 0x109150, "main", "/home/u/src/leaky.c", 30, "/home/u/src/leaky", 0 },
    { 0x7f00deadbeef, NULL, NULL, 0, NULL, 0 },
    { 0x7f0012345678, NULL, NULL, 0, LIBC, 0 },
};
static const struct fr stack_reachable[] = {
    { 0x4842f00, "operator new[](unsigned long)", NULL, 0, LIBMEMLENS, 0 },
    { 0x1091c0, "cache_\"fill\"<T>", "/home/u/src/cache.cc", 44, "/home/u/src/leaky", 0 },
};

static void set_record(struct ml_leak_record *rec, enum ml_leak_kind kind,
                       uint64_t blocks, uint64_t bytes, uint64_t indirect)
{
    rec->kind = kind;
    rec->blocks = blocks;
    rec->bytes = bytes;
    rec->indirect_bytes = indirect;
    rec->resident_bytes = 4096;
}

static void fill_records(struct ml_proc_report *p)
{
    p->nrecords = 3;
    p->records = calloc(3, sizeof *p->records);
    assert_non_null(p->records);
    set_record(&p->records[0], ML_LK_INDIRECT, 1, 16, 0);
    set_stack(p, &p->records[0], stack_indirect, 3);
    set_record(&p->records[1], ML_LK_DEFINITE, 1, 48, 16);
    set_stack(p, &p->records[1], stack_definite, 5);
    set_record(&p->records[2], ML_LK_REACHABLE, 3, 1234567, 0);
    set_stack(p, &p->records[2], stack_reachable, 2);
}

static void fill_process(struct ml_proc_report *p)
{
    static const char *const argv[] = { "./leaky", ARG_SCRIPT, ARG_QUOTE, ARG_UTF8 };

    p->pid = 4242;
    p->ppid = 1;
    p->exe = dup_or_null("/home/u/src/leaky");
    p->argv = strv(argv, 4);
    p->exit_how = ML_EXIT_CODE;
    p->exit_value = 3;
    p->scanned = 1;
    p->saw_shim = 1;
    p->alloc = (struct ml_alloc_stats){ .calls = 1234, .frees = 1229, .bytes = 9876543,
        .live_blocks = 5, .live_bytes = 1234631, .peak_live_bytes = 2000000,
        .unknown_frees = 2 };
    p->summary[ML_LK_DEFINITE] = (struct ml_totals){ 1, 48 };
    p->summary[ML_LK_INDIRECT] = (struct ml_totals){ 1, 16 };
    p->summary[ML_LK_REACHABLE] = (struct ml_totals){ 3, 1234567 };
    fill_records(p);
}

static struct ml_report *make_report(void)
{
    static const char *const command[] = { "./leaky", ARG_SCRIPT, ARG_QUOTE, ARG_UTF8 };
    struct ml_report *r = calloc(1, sizeof *r);

    assert_non_null(r);
    r->mode = "run";
    r->command = strv(command, 4);
    r->nprocs = 1;
    r->procs = calloc(1, sizeof *r->procs);
    assert_non_null(r->procs);
    fill_process(&r->procs[0]);
    return r;
}

static int setup(void **state)
{
    *state = make_report();
    return 0;
}

static int teardown(void **state)
{
    ml_report_free(*state);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static struct ml_render_opts opts(unsigned show, enum ml_leak_check check, int gen)
{
    return (struct ml_render_opts){ .show_kinds = show, .leak_check = check,
                                    .gen_suppressions = gen,
                                    .error_kinds = 1u << ML_LK_DEFINITE | 1u << ML_LK_POSSIBLE,
                                    .tool_version = "0.1.0-test" };
}

typedef int (*renderer)(FILE *, const struct ml_report *, const struct ml_render_opts *);

static char *render(renderer fn, const struct ml_report *r, const struct ml_render_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(fn(f, r, o), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *text_of(const struct ml_report *r, unsigned show, enum ml_leak_check check,
                     int gen)
{
    struct ml_render_opts o = opts(show, check, gen);
    return render(ml_render_text, r, &o);
}

static char *json_of(const struct ml_report *r)
{
    struct ml_render_opts o = opts(SHOW(ML_LK_DEFINITE), ML_LEAK_CHECK_FULL, 0);
    return render(ml_render_json, r, &o);
}

/* The JSON without the whitespace between tokens, for exact comparisons
 * that do not depend on the indentation. */
static char *compact(const char *json)
{
    char *out = malloc(strlen(json) + 1), *o = out;
    int in_string = 0;

    assert_non_null(out);
    for (const char *s = json; *s; s++) {
        if (in_string && *s == '\\' && s[1]) {
            *o++ = *s++;
        } else if (*s == '"') {
            in_string = !in_string;
        } else if (!in_string && strchr(" \n\t\r", *s)) {
            continue;
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

#define assert_contains(hay, needle) check_contains(hay, needle, 1, __FILE__, __LINE__)
#define assert_lacks(hay, needle) check_contains(hay, needle, 0, __FILE__, __LINE__)

static void check_contains(const char *hay, const char *needle, int want,
                           const char *file, int line)
{
    if ((strstr(hay, needle) != NULL) == want)
        return;
    print_error("%s:%d: expected %s\n----\n%s\n---- in ----\n%s\n----\n", file, line,
                want ? "to find" : "not to find", needle, hay);
    _fail(file, line);
}

/* Position of needle in hay; fails when absent. */
static size_t where(const char *hay, const char *needle)
{
    const char *at = strstr(hay, needle);
    assert_non_null(at);
    return (size_t)(at - hay);
}

/* ---- jsonw ------------------------------------------------------------------ */

struct mem { FILE *f; char *buf; size_t len; struct ml_jsonw w; };

static struct ml_jsonw *mem_open(struct mem *m, int pretty)
{
    m->buf = NULL;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    ml_jsonw_init(&m->w, m->f, pretty);
    return &m->w;
}

/* Closes the stream; returns the text (caller frees). */
static char *mem_close(struct mem *m)
{
    assert_int_equal(fclose(m->f), 0);
    return m->buf;
}

/* One string value, written and read back. */
static char *escaped(const char *s, size_t len)
{
    struct mem m;
    struct ml_jsonw *w = mem_open(&m, 0);

    assert_int_equal(ml_jsonw_string_n(w, s, len), 0);
    assert_int_equal(ml_jsonw_finish(w), 0);
    return mem_close(&m);
}

static void check_escape(const char *in, size_t len, const char *want)
{
    char *got = escaped(in, len);
    assert_string_equal(got, want);
    free(got);
}

static void test_jsonw_escapes(void **state)
{
    (void)state;
    check_escape("plain", 5, "\"plain\"");
    check_escape("\"\\/", 3, "\"\\\"\\\\/\"");
    check_escape("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    check_escape("a\0b\x1f\x7f", 5, "\"a\\u0000b\\u001f\\u007f\"");
    check_escape("</script>&", 10, "\"\\u003c/script\\u003e\\u0026\"");
    check_escape("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
}

#define FFFD "\xef\xbf\xbd"

static void test_jsonw_utf8(void **state)
{
    (void)state;
    check_escape("caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    check_escape("\xff", 1, "\"" FFFD "\"");
    check_escape("\xc0\xaf", 2, "\"" FFFD FFFD "\"");              /* overlong */
    check_escape("\xe2\x82x", 3, "\"" FFFD "x\"");                 /* truncated */
    check_escape("\xe2\x82", 2, "\"" FFFD "\"");                   /* cut at end */
    check_escape("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"");     /* surrogate */
    check_escape("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"");  /* > U+10FFFF */
    check_escape("\x80q", 2, "\"" FFFD "q\"");                     /* lone continuation */
}

static void test_jsonw_numbers(void **state)
{
    struct mem m;
    struct ml_jsonw *w = mem_open(&m, 0);

    (void)state;
    ml_jsonw_begin_array(w);
    ml_jsonw_uint(w, UINT64_MAX);
    ml_jsonw_int(w, INT64_MIN);
    ml_jsonw_int(w, 0);
    ml_jsonw_double(w, 0.1);
    ml_jsonw_double(w, 1.0);
    ml_jsonw_double(w, 2.5e-7);
    ml_jsonw_double(w, 1e300);
    ml_jsonw_double(w, NAN);
    ml_jsonw_double(w, INFINITY);
    ml_jsonw_bool(w, 1);
    ml_jsonw_bool(w, 0);
    ml_jsonw_null(w);
    ml_jsonw_string(w, NULL);
    ml_jsonw_end_array(w);
    assert_int_equal(ml_jsonw_finish(w), 0);
    char *s = mem_close(&m);
    assert_string_equal(s, "[18446744073709551615,-9223372036854775808,0,0.1,1.0,"
                           "2.5e-07,1e+300,null,null,true,false,null,null]");
    free(s);
}

static void test_jsonw_nesting(void **state)
{
    struct mem m;
    struct ml_jsonw *w = mem_open(&m, 1);

    (void)state;
    ml_jsonw_begin_object(w);
    ml_jsonw_key_string(w, "a", "x");
    ml_jsonw_key(w, "b");
    ml_jsonw_begin_array(w);
    ml_jsonw_uint(w, 1);
    ml_jsonw_begin_object(w);
    ml_jsonw_end_object(w);
    ml_jsonw_begin_array(w);
    ml_jsonw_end_array(w);
    ml_jsonw_end_array(w);
    ml_jsonw_key_bool(w, "c\"<", 1);
    ml_jsonw_end_object(w);
    assert_int_equal(ml_jsonw_finish(w), 0);
    char *s = mem_close(&m);
    assert_string_equal(s, "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    {},\n    []\n  ],\n"
                           "  \"c\\\"\\u003c\": true\n}\n");
    free(s);
}

/* Runs one misuse after the given prefix of calls; expects err, sticky. */
static void check_misuse(int (*prefix)(struct ml_jsonw *), int (*bad)(struct ml_jsonw *),
                         int err)
{
    struct mem m;
    struct ml_jsonw *w = mem_open(&m, 0);

    if (prefix)
        assert_int_equal(prefix(w), 0);
    errno = 0;
    assert_int_equal(bad(w), -1);
    assert_int_equal(errno, err);
    assert_int_equal(ml_jsonw_null(w), -1);        /* the error sticks */
    assert_int_equal(ml_jsonw_finish(w), -1);
    assert_int_equal(errno, err);
    free(mem_close(&m));
}

static int open_object(struct ml_jsonw *w) { return ml_jsonw_begin_object(w); }
static int open_array(struct ml_jsonw *w) { return ml_jsonw_begin_array(w); }
static int one_value(struct ml_jsonw *w) { return ml_jsonw_uint(w, 1); }
static int a_key(struct ml_jsonw *w) { return ml_jsonw_key(w, "k"); }
static int a_value(struct ml_jsonw *w) { return ml_jsonw_uint(w, 2); }
static int end_array(struct ml_jsonw *w) { return ml_jsonw_end_array(w); }
static int end_object(struct ml_jsonw *w) { return ml_jsonw_end_object(w); }
static int finish(struct ml_jsonw *w) { return ml_jsonw_finish(w); }

static int key_then_end(struct ml_jsonw *w)
{
    return ml_jsonw_begin_object(w) < 0 ? -1 : ml_jsonw_key(w, "k");
}

static int too_deep(struct ml_jsonw *w)
{
    for (int i = 0; i <= ML_JSONW_MAX_DEPTH; i++)
        if (ml_jsonw_begin_array(w) < 0)
            return -1;
    return 0;
}

static void test_jsonw_misuse(void **state)
{
    (void)state;
    check_misuse(open_object, a_value, EINVAL);     /* value without key */
    check_misuse(open_array, a_key, EINVAL);        /* key in an array */
    check_misuse(NULL, a_key, EINVAL);              /* key at the top */
    check_misuse(open_object, end_array, EINVAL);   /* mismatched end */
    check_misuse(key_then_end, end_object, EINVAL); /* key without value */
    check_misuse(one_value, a_value, EINVAL);       /* second top value */
    check_misuse(NULL, end_array, EINVAL);          /* end at the top */
    check_misuse(open_array, finish, EINVAL);       /* unclosed */
    check_misuse(NULL, finish, EINVAL);             /* nothing written */
    check_misuse(NULL, too_deep, EOVERFLOW);
}

static void test_jsonw_write_error(void **state)
{
    FILE *f = fopen("/dev/full", "w");
    struct ml_jsonw w;

    (void)state;
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    ml_jsonw_init(&w, f, 0);
    assert_int_equal(ml_jsonw_begin_array(&w), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(ml_jsonw_finish(&w), -1);
    fclose(f);
}

/* ---- model ---------------------------------------------------------------------- */

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(ml_leak_kind_key(ML_LK_REACHABLE), "reachable");
    assert_string_equal(ml_leak_kind_key(ML_LK_POSSIBLE), "possible");
    assert_string_equal(ml_leak_kind_key(ML_LK_INDIRECT), "indirect");
    assert_string_equal(ml_leak_kind_key(ML_LK_DEFINITE), "definite");
    assert_string_equal(ml_leak_kind_text(ML_LK_REACHABLE), "still reachable");
    assert_string_equal(ml_leak_kind_text(ML_LK_POSSIBLE), "possibly lost");
    assert_string_equal(ml_leak_kind_text(ML_LK_INDIRECT), "indirectly lost");
    assert_string_equal(ml_leak_kind_text(ML_LK_DEFINITE), "definitely lost");
    ml_report_free(NULL);
    ml_proc_report_free(NULL);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void test_json_document(void **state)
{
    char *json = json_of(*state), *c = compact(json);

    assert_contains(c, "{\"tool\":\"memlens\",\"version\":\"0.1.0-test\",\"schema\":1,"
                       "\"mode\":\"run\",\"command\":[\"./leaky\",");
    assert_contains(c, ",\"processes\":[{\"pid\":4242,\"ppid\":1,"
                       "\"exe\":\"/home/u/src/leaky\",\"argv\":[\"./leaky\",");
    assert_contains(c, "\"exit\":{\"code\":3}");
    assert_contains(c, "\"scanned\":true");
    assert_contains(c, "\"allocations\":{\"calls\":1234,\"bytes\":9876543,"
                       "\"peak_live_bytes\":2000000,\"live_blocks\":5,"
                       "\"live_bytes\":1234631,\"frees\":1229,");
    assert_contains(c, "\"leaks\":{\"summary\":{\"definite\":{\"blocks\":1,\"bytes\":48},"
                       "\"indirect\":{\"blocks\":1,\"bytes\":16},"
                       "\"possible\":{\"blocks\":0,\"bytes\":0},"
                       "\"reachable\":{\"blocks\":3,\"bytes\":1234567},"
                       "\"suppressed\":{\"blocks\":0,\"bytes\":0}},\"records\":[{");
    assert_contains(c, "{\"kind\":\"definite\",\"blocks\":1,\"bytes\":48,"
                       "\"indirect_bytes\":16,\"resident_bytes\":4096,"
                       "\"suppressed\":false,\"suppression\":null,\"stack\":[");
    assert_true(c[strlen(c) - 1] == '}');
    free(c);
    free(json);
}

static void test_json_records(void **state)
{
    char *json = json_of(*state), *c = compact(json);

    /* every kind, in the model's order, whatever show_kinds says */
    size_t ind = where(c, "\"kind\":\"indirect\""), def = where(c, "\"kind\":\"definite\"");
    assert_true(ind < def && def < where(c, "\"kind\":\"reachable\""));
    assert_contains(c, "\"stack\":[{\"address\":\"0x48417b4\",\"function\":\"malloc\","
                       "\"file\":null,\"line\":null,\"module\":\"" LIBMEMLENS "\","
                       "\"inlined\":false,\"linkage_name\":null},{\"address\":\"0x109150\","
                       "\"function\":\"leak_one\",\"file\":\"/home/u/src/leaky.c\","
                       "\"line\":12,\"module\":\"/home/u/src/leaky\",\"inlined\":true,"
                       "\"linkage_name\":null},");
    assert_contains(c, "{\"address\":\"0x7f00deadbeef\",\"function\":null,\"file\":null,"
                       "\"line\":null,\"module\":null,\"inlined\":false,\"linkage_name\":null}");
    assert_contains(c, "\"function\":\"cache_\\\"fill\\\"\\u003cT\\u003e\"");
    free(c);
    free(json);
}

static void test_json_escaping(void **state)
{
    char *json = json_of(*state);

    assert_contains(json, "\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\"");
    assert_contains(json, "\"quote\\\"back\\\\slash\\ttab\\u0001ctl\"");
    assert_contains(json, "\"caf\xc3\xa9 " FFFD FFFD " bad\"");
    assert_null(strpbrk(json, "<>&\t\r\x01"));      /* safe inside <script> */
    free(json);
}

static void check_exit_json(struct ml_report *r, enum ml_exit_how how, int value,
                            const char *want)
{
    r->procs[0].exit_how = how;
    r->procs[0].exit_value = value;
    char *json = json_of(r), *c = compact(json);
    assert_contains(c, want);
    free(c);
    free(json);
}

static void test_json_exit(void **state)
{
    check_exit_json(*state, ML_EXIT_SIGNAL, 11, "\"exit\":{\"signal\":\"SIGSEGV\"}");
    check_exit_json(*state, ML_EXIT_SIGNAL, 9, "\"exit\":{\"signal\":\"SIGKILL\"}");
    check_exit_json(*state, ML_EXIT_DETACHED, 0, "\"exit\":{\"detached\":true}");
    check_exit_json(*state, ML_EXIT_CODE, 0, "\"exit\":{\"code\":0}");
    check_exit_json(*state, ML_EXIT_UNKNOWN, 0, "\"exit\":null");
}

static void test_json_empty_report(void **state)
{
    struct ml_report r = { .mode = "attach" };
    char *json = json_of(&r), *c = compact(json);

    (void)state;
    assert_string_equal(c, "{\"tool\":\"memlens\",\"version\":\"0.1.0-test\",\"schema\":1,"
                           "\"mode\":\"attach\",\"command\":[],\"options\":{\"leak_check\":\"no\","
                           "\"show_leak_kinds\":[],\"errors_for_leak_kinds\":[],\"leak_check_heuristics\":[],"
                           "\"error_exitcode\":0,\"num_callers\":0,\"suppressions\":[],"
                           "\"default_suppressions\":false,\"show_below_main\":false,\"demangle\":false,"
                           "\"trace_children\":false,\"alloc_fns\":[]},\"processes\":[]}");
    free(c);
    free(json);
}

/* Python's json module parses the document and gives the strings back. */
/* What python3 prints for `code` run with the document on stdin; skips the
 * test when python3 is not installed. */
static void python_reads(const char *doc, const char *code, char *got, size_t size)
{
    char path[] = "/tmp/test_render_XXXXXX", cmd[1024];

    if (system("command -v python3 >/dev/null 2>&1") != 0)
        skip();
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    snprintf(cmd, sizeof cmd, "python3 -c '%s' < %s", code, path);
    FILE *py = popen(cmd, "r");
    assert_non_null(py);
    size_t n = fread(got, 1, size - 1, py);
    got[n] = '\0';
    int status = pclose(py);
    unlink(path);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_json_python(void **state)
{
    static const char want[] =
        "[\"./leaky\", \"<script>alert(1)</script>\", "
        "\"quote\\\"back\\\\slash\\ttab\\u0001ctl\", \"caf\\u00e9 \\ufffd\\ufffd bad\"] "
        "cache_\"fill\"<T> 4096\n";
    char got[512] = "";
    char *json = json_of(*state);

    python_reads(json, "import json,sys; d=json.load(sys.stdin); "
                 "p=d[\"processes\"][0]; r=p[\"leaks\"][\"records\"]; "
                 "print(json.dumps(p[\"argv\"]), r[2][\"stack\"][1][\"function\"], "
                 "r[1][\"resident_bytes\"])", got, sizeof got);
    free(json);
    assert_string_equal(got, want);
}

/* ---- text -------------------------------------------------------------------------- */

#define P "==4242== "

static const char text_header[] =
    P "memlens, a memory leak and fragmentation detector\n"
    P "Using memlens-0.1.0-test; rerun with -h for help\n"
    P "Command: ./leaky <script>alert(1)</script> quote\"back\\\\slash?tab?ctl "
      "caf\xc3\xa9\\ \xff\xfe" "\\ bad\n"      /* valgrind's escapes: "\\ " and "\\\\" */
    P "\n";

/* The closing text starts with an empty line, as valgrind's. */
static const char text_heap_summary[] =
    P "\n"
    P "HEAP SUMMARY:\n"
    P "    in use at exit: 1,234,631 bytes in 5 blocks\n"
    P "  total heap usage: 1,234 allocs, 1,229 frees, 9,876,543 bytes allocated\n"
    P "\n";

static const char text_definite[] =
    P "64 (48 direct, 16 indirect) bytes in 1 blocks are definitely lost in loss record 2 of 3\n"
    P "   at 0x48417B4: malloc (in " LIBMEMLENS ")\n"
    P "   by 0x109150: leak_one (leaky.c:12)\n"
    P "   by 0x109150: main (leaky.c:30)\n"
    P "   by 0x7F00DEADBEEF: ???\n"
    P "   by 0x7F0012345678: ??? (in " LIBC ")\n"
    P "\n";

static const char text_leak_summary[] =
    P "LEAK SUMMARY:\n"
    P "   definitely lost: 48 bytes in 1 blocks\n"
    P "   indirectly lost: 16 bytes in 1 blocks\n"
    P "     possibly lost: 0 bytes in 0 blocks\n"
    P "   still reachable: 1,234,567 bytes in 3 blocks\n"
    P "        suppressed: 0 bytes in 0 blocks\n";

/* One error: the definite record (memcheck's default error kinds). */
static const char text_error_summary[] =
    P "For lists of detected and suppressed errors, rerun with: -s\n"
    P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n";

static const char text_reachable_hint[] =
    P "Reachable blocks (those to which a pointer was found) are not shown.\n"
    P "To see them, rerun with: --leak-check=full --show-leak-kinds=all\n";

/* The whole report with the default options, line for line. */
static void test_text_default(void **state)
{
    char want[4096];
    char *text = text_of(*state, SHOW_DEFAULT, ML_LEAK_CHECK_FULL, 0);

    snprintf(want, sizeof want, "%s%s%s%s%s" P "\n%s", text_header, text_heap_summary,
             text_definite, text_leak_summary, text_reachable_hint, text_error_summary);
    assert_string_equal(text, want);
    free(text);
}

static void test_text_all_kinds(void **state)
{
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);

    assert_contains(text, P "16 bytes in 1 blocks are indirectly lost in loss record 1 of 3\n"
                          P "   at 0x48417B4: malloc (in " LIBMEMLENS ")\n"
                          P "   by 0x109176: make_node (list.c:7)\n"
                          P "   by 0x1091A0: main (leaky.c:20)\n" P "\n");
    assert_contains(text, text_definite);
    assert_contains(text, P "1,234,567 bytes in 3 blocks are still reachable in loss record 3 of 3\n"
                          P "   at 0x4842F00: operator new[](unsigned long) (in " LIBMEMLENS ")\n"
                          P "   by 0x1091C0: cache_\"fill\"<T> (cache.cc:44)\n" P "\n"
                          P "LEAK SUMMARY:\n");
    assert_true(where(text, "loss record 1 of 3") < where(text, "loss record 2 of 3"));
    assert_lacks(text, "Reachable blocks");
    free(text);
}

static void test_text_show_kinds(void **state)
{
    char *text = text_of(*state, SHOW(ML_LK_REACHABLE), ML_LEAK_CHECK_FULL, 0);

    assert_contains(text, "are still reachable in loss record 3 of 3");
    assert_lacks(text, "are definitely lost in loss record");
    assert_lacks(text, "are indirectly lost in loss record");
    assert_contains(text, text_leak_summary);      /* the summary counts every kind */
    free(text);
    text = text_of(*state, SHOW(ML_LK_INDIRECT), ML_LEAK_CHECK_FULL, 0);
    assert_contains(text, "are indirectly lost in loss record 1 of 3");
    assert_lacks(text, "loss record 2 of 3");
    assert_lacks(text, "loss record 3 of 3");
    free(text);
}

static void test_text_suppressed(void **state)
{
    struct ml_report *r = *state;
    struct ml_proc_report *p = &r->procs[0];

    p->records[1].suppressed = 1;
    p->records[1].suppression = strdup("known-leak");
    p->summary[ML_LK_SUPPRESSED] = (struct ml_totals){ 2, 1048576 };
    char *text = text_of(r, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_lacks(text, "definitely lost in loss record");
    assert_contains(text, "loss record 1 of 3");
    assert_contains(text, "loss record 3 of 3");
    assert_contains(text, P "        suppressed: 1,048,576 bytes in 2 blocks\n");
    free(text);
    char *json = json_of(r), *c = compact(json);
    assert_contains(c, "\"suppressed\":true,\"suppression\":\"known-leak\"");
    assert_contains(c, "\"suppressed\":{\"blocks\":2,\"bytes\":1048576}");
    free(c);
    free(json);
}

static void test_text_gen_suppressions(void **state)
{
    char *text = text_of(*state, SHOW_DEFAULT, ML_LEAK_CHECK_FULL, 1);

    assert_contains(text, "in loss record 2 of 3\n");
    assert_contains(text, P "   by 0x7F0012345678: ??? (in " LIBC ")\n" P "\n"
                          "{\n"
                          "   <insert_a_suppression_name_here>\n"
                          "   Memcheck:Leak\n"
                          "   match-leak-kinds: definite\n"
                          "   fun:malloc\n"
                          "   fun:leak_one\n"
                          "   fun:main\n"
                          "}\n"
                          P "LEAK SUMMARY:\n");
    free(text);
    text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 1);
    assert_contains(text, "   match-leak-kinds: reachable\n"
                          "   fun:operator new[](unsigned long)\n"
                          "   fun:cache_\"fill\"<T>\n}\n");
    free(text);
}

static void test_text_summary_only(void **state)
{
    char want[2048];
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_SUMMARY, 0);

    /* a summary-only check finds no errors, as memcheck's */
    snprintf(want, sizeof want, "%s%s%s" P "Rerun with --leak-check=full to see details "
             "of leaked memory\n" P "\n"
             P "For lists of detected and suppressed errors, rerun with: -s\n"
             P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n",
             text_header, text_heap_summary, text_leak_summary);
    assert_string_equal(text, want);
    free(text);
}

static void test_text_no_leak_check(void **state)
{
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_NO, 0);

    assert_contains(text, text_heap_summary);
    assert_contains(text, P "For a detailed leak analysis, rerun with: --leak-check=full\n");
    assert_lacks(text, "LEAK SUMMARY");
    assert_lacks(text, "loss record");
    free(text);
}

static void test_text_all_freed(void **state)
{
    struct ml_proc_report *p = &((struct ml_report *)*state)->procs[0];

    p->alloc.live_blocks = p->alloc.live_bytes = 0;
    memset(p->summary, 0, sizeof p->summary);
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_contains(text, P "    in use at exit: 0 bytes in 0 blocks\n");
    assert_contains(text, P "\n" P "All heap blocks were freed -- no leaks are possible\n"
                          P "\n");
    assert_lacks(text, "LEAK SUMMARY");
    free(text);
}

static void test_text_not_scanned(void **state)
{
    struct ml_proc_report *p = &((struct ml_report *)*state)->procs[0];

    p->scanned = 0;
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_contains(text, "could not be read");
    assert_contains(text, P "LEAK SUMMARY:\n"
                          P "       not scanned: 1,234,631 bytes in 5 blocks\n");
    assert_lacks(text, "definitely lost");
    assert_lacks(text, "still reachable");
    assert_lacks(text, "loss record");
    free(text);
    char *json = json_of(*state);
    assert_contains(json, "\"scanned\":false");
    free(json);
}

static void test_text_no_shim(void **state)
{
    struct ml_proc_report *p = &((struct ml_report *)*state)->procs[0];

    p->saw_shim = 0;
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_contains(text, P "No allocation was seen: the program uses a static allocator");
    assert_lacks(text, "HEAP SUMMARY");
    assert_lacks(text, "LEAK SUMMARY");
    assert_lacks(text, " 0 bytes in 0 blocks");
    free(text);
}

static void test_text_quiet(void **state)
{
    struct ml_render_opts o = opts(SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    o.quiet = 1;
    char *text = render(ml_render_text, *state, &o);
    assert_lacks(text, "a memory leak and fragmentation detector");
    assert_lacks(text, "HEAP SUMMARY");
    assert_lacks(text, "HEAP FRAGMENTATION");
    assert_contains(text, "are definitely lost in loss record");
    assert_lacks(text, "LEAK SUMMARY");          /* valgrind -q: the records only */
    assert_lacks(text, "ERROR SUMMARY");
    free(text);
}

static void test_text_exit(void **state)
{
    struct ml_proc_report *p = &((struct ml_report *)*state)->procs[0];

    p->exit_how = ML_EXIT_SIGNAL;
    p->exit_value = 11;
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_contains(text, P "\n" P "Process terminating with default action of signal 11 "
                          "(SIGSEGV)\n" P "\n" P "HEAP SUMMARY:\n");
    free(text);
    p->exit_how = ML_EXIT_DETACHED;
    text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_contains(text, P "Detached: the process keeps running");
    assert_contains(text, P "  in use at detach: 1,234,631 bytes in 5 blocks\n");
    free(text);
}

static void test_text_thousands(void **state)
{
    struct ml_proc_report *p = &((struct ml_report *)*state)->procs[0];

    p->alloc.live_bytes = UINT64_MAX;
    p->alloc.live_blocks = 1000;
    p->alloc.calls = 999;
    p->alloc.frees = 0;
    p->alloc.bytes = 100000;
    char *text = text_of(*state, SHOW_ALL, ML_LEAK_CHECK_NO, 0);
    assert_contains(text, P "    in use at exit: 18,446,744,073,709,551,615 bytes in 1,000 blocks\n"
                          P "  total heap usage: 999 allocs, 0 frees, 100,000 bytes allocated\n");
    free(text);
}

/* Each process is its own section, with its own pid prefix. */
static void test_text_processes(void **state)
{
    struct ml_report *r = *state;
    struct ml_proc_report *more = realloc(r->procs, 2 * sizeof *more);

    assert_non_null(more);
    r->procs = more;
    r->nprocs = 2;
    memset(&more[1], 0, sizeof more[1]);
    more[1].pid = 4343;
    more[1].ppid = 4242;
    more[1].saw_shim = more[1].scanned = 1;
    more[1].alloc.calls = more[1].alloc.frees = 1;   /* all freed */
    char *text = text_of(r, SHOW_DEFAULT, ML_LEAK_CHECK_FULL, 0);
    size_t child = where(text, "==4343== memlens, a memory leak");
    assert_true(where(text, P "LEAK SUMMARY:") < child);
    assert_contains(text + child, "==4343== Command: ./leaky <script>");  /* from r->command */
    assert_contains(text + child, "==4343== All heap blocks were freed -- no leaks are possible\n");
    free(text);
    char *json = json_of(r), *c = compact(json);
    assert_contains(c, "{\"pid\":4343,\"ppid\":4242,\"exe\":null,\"argv\":[],");
    free(c);
    free(json);
}

static void test_text_write_error(void **state)
{
    struct ml_render_opts o = opts(SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    FILE *f = fopen("/dev/full", "w");

    if (!f)
        skip();
    assert_int_equal(ml_render_text(f, *state, &o), -1);
    assert_int_equal(ml_render_json(f, *state, &o), -1);
    fclose(f);
    assert_int_equal(ml_render_text(NULL, *state, &o), -1);
    assert_int_equal(errno, EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- XML (valgrind protocol 4) ------------------------------------------------ */

static char *xml_of(const struct ml_report *r, unsigned show, enum ml_leak_check check, int gen)
{
    struct ml_render_opts o = opts(show, check, gen);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(ml_render_xml(f, r, &r->procs[0], &o), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
        n++;
    return n;
}

/* The definite record of the fixture as memcheck writes it: leakedbytes
 * counts its 16 indirect bytes, frames split file into dir and file, the
 * unknown frame is an ip alone. */
static void test_xml_error(void **state)
{
    char *xml = xml_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);

    assert_contains(xml, "<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n"
                         "<protocolversion>4</protocolversion>\n"
                         "<protocoltool>memcheck</protocoltool>\n");
    assert_contains(xml, "<pid>4242</pid>\n<ppid>1</ppid>\n<tool>memcheck</tool>\n");
    assert_contains(xml, "<error>\n  <unique>0x1</unique>\n  <tid>1</tid>\n"
                         "  <kind>Leak_DefinitelyLost</kind>\n  <xwhat>\n"
                         "    <text>64 (48 direct, 16 indirect) bytes in 1 blocks are definitely "
                         "lost in loss record 2 of 3</text>\n"
                         "    <leakedbytes>64</leakedbytes>\n"
                         "    <leakedblocks>1</leakedblocks>\n  </xwhat>\n  <stack>\n"
                         "    <frame>\n      <ip>0x48417B4</ip>\n"
                         "      <obj>" LIBMEMLENS "</obj>\n      <fn>malloc</fn>\n    </frame>\n"
                         "    <frame>\n      <ip>0x109150</ip>\n"
                         "      <obj>/home/u/src/leaky</obj>\n      <fn>leak_one</fn>\n"
                         "      <dir>/home/u/src</dir>\n      <file>leaky.c</file>\n"
                         "      <line>12</line>\n    </frame>\n");
    assert_contains(xml, "    <frame>\n      <ip>0x7F00DEADBEEF</ip>\n    </frame>\n");
    assert_contains(xml, "<kind>Leak_IndirectlyLost</kind>");
    assert_contains(xml, "<kind>Leak_StillReachable</kind>");
    assert_contains(xml, "<text>1,234,567 bytes in 3 blocks are still reachable in loss "
                         "record 3 of 3</text>\n    <leakedbytes>1234567</leakedbytes>");
    assert_contains(xml, "<errorcounts>\n</errorcounts>\n\n<suppcounts>\n</suppcounts>\n\n"
                         "</valgrindoutput>\n");
    free(xml);
}

/* Names and arguments that are markup, control characters or not UTF-8. */
static void test_xml_escaping(void **state)
{
    char *xml = xml_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);

    assert_contains(xml, "<fn>cache_&quot;fill&quot;&lt;T&gt;</fn>");
    assert_contains(xml, "<arg>&lt;script&gt;alert(1)&lt;/script&gt;</arg>");
    assert_contains(xml, "<arg>quote&quot;back\\slash\ttab?ctl</arg>");
    assert_contains(xml, "<arg>caf\xc3\xa9 \xEF\xBF\xBD\xEF\xBF\xBD bad</arg>");
    assert_lacks(xml, "<script>");
    free(xml);
}

/* Shown kinds only; no errors unless --leak-check=full. */
static void test_xml_kinds(void **state)
{
    char *xml = xml_of(*state, SHOW_DEFAULT, ML_LEAK_CHECK_FULL, 0);
    assert_int_equal(count_of(xml, "<error>"), 1);
    assert_contains(xml, "<kind>Leak_DefinitelyLost</kind>");
    free(xml);
    xml = xml_of(*state, SHOW_ALL, ML_LEAK_CHECK_SUMMARY, 0);
    assert_int_equal(count_of(xml, "<error>"), 0);
    assert_contains(xml, "<state>FINISHED</state>");
    free(xml);
}

/* Suppressed records are no errors; suppcounts counts them per name. */
static void test_xml_suppcounts(void **state)
{
    struct ml_report *r = *state;
    struct ml_proc_report *p = &r->procs[0];
    char *xml;

    for (size_t i = 0; i < 3; i += 2) {
        p->records[i].suppressed = 1;
        p->records[i].suppression = dup_or_null("keep<me>");
    }
    xml = xml_of(r, SHOW_ALL, ML_LEAK_CHECK_FULL, 0);
    assert_int_equal(count_of(xml, "<error>"), 1);
    assert_contains(xml, "<suppcounts>\n  <pair>\n    <count>2</count>\n"
                         "    <name>keep&lt;me&gt;</name>\n  </pair>\n</suppcounts>\n");
    free(xml);
}

/* --gen-suppressions: the entry the text report prints, as sframes and as
 * raw text, down to main. */
static void test_xml_gen_suppressions(void **state)
{
    char *xml = xml_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 1);

    assert_contains(xml, "  <suppression>\n"
                         "    <sname>insert_a_suppression_name_here</sname>\n"
                         "    <skind>Memcheck:Leak</skind>\n"
                         "    <skaux>match-leak-kinds: definite</skaux>\n"
                         "    <sframe> <fun>malloc</fun> </sframe>\n"
                         "    <sframe> <fun>leak_one</fun> </sframe>\n"
                         "    <sframe> <fun>main</fun> </sframe>\n"
                         "    <rawtext>\n<![CDATA[\n{\n"
                         "   <insert_a_suppression_name_here>\n   Memcheck:Leak\n"
                         "   match-leak-kinds: definite\n   fun:malloc\n   fun:leak_one\n"
                         "   fun:main\n}\n]]>\n    </rawtext>\n  </suppression>\n</error>\n");
    assert_contains(xml, "<sframe> <fun>cache_&quot;fill&quot;&lt;T&gt;</fun> </sframe>");
    assert_contains(xml, "   fun:cache_\"fill\"<T>\n}\n]]>");
    free(xml);
}

static void test_xml_python(void **state)
{
    char got[512] = "";
    char *xml = xml_of(*state, SHOW_ALL, ML_LEAK_CHECK_FULL, 1);

    python_reads(xml, "import sys, xml.etree.ElementTree as E; r=E.parse(sys.stdin).getroot(); "
                 "print([e.findtext(\"kind\") for e in r.findall(\"error\")], "
                 "r.findall(\"error\")[2].find(\"stack\")[1].findtext(\"fn\"))", got, sizeof got);
    free(xml);
    assert_string_equal(got, "[\x27Leak_IndirectlyLost\x27, \x27Leak_DefinitelyLost\x27, "
                             "\x27Leak_StillReachable\x27] cache_\"fill\"<T>\n");
}

/* ---- SARIF ------------------------------------------------------------------------ */

static char *sarif_of(const struct ml_report *r, unsigned error_kinds)
{
    struct ml_render_opts o = opts(SHOW_DEFAULT, ML_LEAK_CHECK_FULL, 0);
    o.error_kinds = error_kinds;
    return render(ml_render_sarif, r, &o);
}

/* A result per record of the error kinds, located at the first frame after
 * the allocator's with a file and line; the stack as the code flow. */
static void test_sarif_results(void **state)
{
    char got[1024] = "";
    char *sarif = sarif_of(*state, SHOW_DEFAULT);

    python_reads(sarif, "import json,sys; d=json.load(sys.stdin); run=d[\"runs\"][0]; "
                 "print(d[\"version\"], [r[\"id\"] for r in run[\"tool\"][\"driver\"][\"rules\"]]); "
                 "[print(r[\"ruleId\"], r[\"ruleIndex\"], r[\"message\"][\"text\"], "
                 "r[\"locations\"][0][\"physicalLocation\"][\"artifactLocation\"][\"uri\"], "
                 "r[\"locations\"][0][\"physicalLocation\"][\"region\"][\"startLine\"], "
                 "len(r[\"codeFlows\"][0][\"threadFlows\"][0][\"locations\"]), "
                 "len(r[\"partialFingerprints\"][\"memlensStack/v1\"])) for r in run[\"results\"]]",
                 got, sizeof got);
    free(sarif);
    assert_string_equal(got, "2.1.0 [\x27" "definite\x27, \x27indirect\x27, \x27possible\x27, "
                             "\x27reachable\x27]\n"
                             "definite 0 64 (48 direct, 16 indirect) bytes in 1 blocks are "
                             "definitely lost in loss record 2 of 3 file:///home/u/src/leaky.c "
                             "12 5 16\n");
}

/* A frame in a system header or library is not the program's own source;
 * suppressed records are no results; fingerprints differ by stack. */
static void test_sarif_own_frame(void **state)
{
    struct ml_report *r = *state;
    struct ml_leak_record *rec = &r->procs[0].records[0];
    char got[512] = "";

    set_frame_file(&r->procs[0], rec, 1, "/usr/include/c++/12/bits/new_allocator.h");
    r->procs[0].records[1].suppressed = 1;
    char *sarif = sarif_of(r, SHOW_ALL);
    python_reads(sarif, "import json,sys; d=json.load(sys.stdin); rs=d[\"runs\"][0][\"results\"]; "
                 "[print(r[\"ruleId\"], r[\"locations\"][0][\"physicalLocation\"][\"region\"]"
                 "[\"startLine\"]) for r in rs]; "
                 "print(len({r[\"partialFingerprints\"][\"memlensStack/v1\"] for r in rs}))",
                 got, sizeof got);
    free(sarif);
    assert_string_equal(got, "indirect 20\nreachable 44\n2\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw_escapes),
        cmocka_unit_test(test_jsonw_utf8),
        cmocka_unit_test(test_jsonw_numbers),
        cmocka_unit_test(test_jsonw_nesting),
        cmocka_unit_test(test_jsonw_misuse),
        cmocka_unit_test(test_jsonw_write_error),
        cmocka_unit_test(test_kind_names),
        T(test_json_document),
        T(test_json_records),
        T(test_json_escaping),
        T(test_json_exit),
        cmocka_unit_test(test_json_empty_report),
        T(test_json_python),
        T(test_text_default),
        T(test_text_all_kinds),
        T(test_text_show_kinds),
        T(test_text_suppressed),
        T(test_text_gen_suppressions),
        T(test_text_summary_only),
        T(test_text_no_leak_check),
        T(test_text_all_freed),
        T(test_text_not_scanned),
        T(test_text_no_shim),
        T(test_text_quiet),
        T(test_text_exit),
        T(test_text_thousands),
        T(test_text_processes),
        T(test_text_write_error),
        T(test_xml_error),
        T(test_xml_escaping),
        T(test_xml_kinds),
        T(test_xml_suppcounts),
        T(test_xml_gen_suppressions),
        T(test_xml_python),
        T(test_sarif_results),
        T(test_sarif_own_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
