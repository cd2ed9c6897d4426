/* suppress.c - valgrind-format leak suppressions (see suppress.h).
 *
 * A line reader strips blanks and comments and counts lines for messages;
 * the parser reads one entry at a time ("{", name, "Tool:Kind", optional
 * match-leak-kinds, frames, "}") and keeps the Memcheck:Leak ones; the
 * matcher compares an entry's frame patterns with a record's stack, with
 * "..." working over frames as '*' does over characters.
 * Owns the entries and their strings.  Prints nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "suppress.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stacktab.h"

#define MAX_FRAMES 500          /* valgrind's VG_DEEPEST_BACKTRACE */
#define ALL_KINDS ((1u << ML_LK_COUNT) - 1)

enum pat_kind { PAT_FUN, PAT_OBJ, PAT_SRC, PAT_ANY };

struct pattern {
    enum pat_kind kind;
    char *text;                 /* NULL for PAT_ANY */
    int line;                   /* src: FILE:LINE, 0 for any line */
};

struct entry {
    char *name;
    char *file;                 /* the file it was read from, and the line of its name */
    int line;
    unsigned kinds;             /* bits (1u << enum ml_leak_kind) */
    struct pattern *frames;
    size_t nframes;
};

struct ml_suppressions {
    struct entry *entries;
    size_t n, cap;
};

/* ---- set ------------------------------------------------------------------ */

struct ml_suppressions *ml_suppressions_new(void)
{
    return calloc(1, sizeof(struct ml_suppressions));
}

static void entry_free(struct entry *e)
{
    for (size_t i = 0; i < e->nframes; i++)
        free(e->frames[i].text);
    free(e->frames);
    free(e->name);
    free(e->file);
    memset(e, 0, sizeof *e);
}

void ml_suppressions_free(struct ml_suppressions *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_free(&s->entries[i]);
    free(s->entries);
    free(s);
}

size_t ml_suppressions_count(const struct ml_suppressions *s)
{
    return s ? s->n : 0;
}

static int add_entry(struct ml_suppressions *s, struct entry *e)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        struct entry *p = realloc(s->entries, ncap * sizeof *p);
        if (!p)
            return -1;
        s->entries = p;
        s->cap = ncap;
    }
    s->entries[s->n++] = *e;
    memset(e, 0, sizeof *e);
    return 0;
}

/* ---- line reader ---------------------------------------------------------- */

struct reader {
    FILE *f;
    const char *path;
    int lineno;
    char *buf;
    size_t cap;
    char *err;
    size_t errlen;
};

/* The next line that is neither blank nor a comment, without its leading
 * and trailing blanks; NULL at the end of the file. */
static char *next_line(struct reader *r)
{
    ssize_t len;

    while ((len = getline(&r->buf, &r->cap, r->f)) >= 0) {
        char *s = r->buf, *e = s + len;
        r->lineno++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        *e = '\0';
        while (isspace((unsigned char)*s))
            s++;
        if (*s && *s != '#')
            return s;
    }
    return NULL;
}

static int __attribute__((format(printf, 2, 3)))
bad(struct reader *r, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->err, r->errlen, "%s:%d: ", r->path, r->lineno);

    if (n >= 0 && (size_t)n < r->errlen) {
        va_start(ap, fmt);
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    errno = EINVAL;
    return -1;
}

/* ---- parser --------------------------------------------------------------- */

/* "definite,possible", "all" or "none" into kind bits; -1 when malformed. */
static int parse_kinds(const char *s, unsigned *out)
{
    static const struct { const char *name; unsigned bits; } names[] = {
        {"definite", 1u << ML_LK_DEFINITE}, {"indirect", 1u << ML_LK_INDIRECT},
        {"possible", 1u << ML_LK_POSSIBLE}, {"reachable", 1u << ML_LK_REACHABLE},
        {"all", ALL_KINDS}, {"none", 0},
    };
    unsigned bits = 0;

    while (*s) {
        size_t len = strcspn(s, ","), i, n = sizeof names / sizeof names[0];
        for (i = 0; i < n; i++)
            if (strlen(names[i].name) == len && strncmp(s, names[i].name, len) == 0)
                break;
        if (i == n)
            return -1;
        bits |= names[i].bits;
        s += len + (s[len] == ',');
    }
    *out = bits;
    return 0;
}

/* Memcheck's error kinds that a suppression may name (mc_errors.c). */
static int memcheck_kind(const char *k)
{
    static const char *const kinds[] = {
        "Leak", "Param", "User", "CoreMem", "Jump", "Free", "Overlap", "Mempool",
        "Cond", "FishyValue", "ReallocZero", "Value0", "Value1", "Value2", "Value4",
        "Value8", "Value16", "Value32", "Addr1", "Addr2", "Addr4", "Addr8",
        "Addr16", "Addr32",
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(k, kinds[i]) == 0)
            return 1;
    return 0;
}

/* Does the comma list of tools name memcheck ("Memcheck", or "*")? */
static int names_memcheck(const char *tools, size_t len)
{
    while (len > 0) {
        size_t n = strcspn(tools, ",");
        if (n > len)
            n = len;
        if ((n == 8 && strncmp(tools, "Memcheck", 8) == 0) || (n == 1 && tools[0] == '*'))
            return 1;
        tools += n;
        len -= n;
        if (len > 0) {
            tools++;
            len--;
        }
    }
    return 0;
}

/* Skip the rest of an entry, up to and including its "}". */
static int skip_entry(struct reader *r)
{
    const char *line;

    while ((line = next_line(r)) != NULL)
        if (strcmp(line, "}") == 0)
            return 0;
    return bad(r, "unexpected end of file inside a suppression");
}

static int parse_src(struct pattern *p, const char *text)
{
    const char *colon = strrchr(text, ':');
    char *end;

    p->kind = PAT_SRC;
    if (colon && colon[1] && (p->line = (int)strtol(colon + 1, &end, 10)) > 0 && *end == '\0')
        p->text = strndup(text, (size_t)(colon - text));
    else {
        p->line = 0;
        p->text = strdup(text);
    }
    return p->text ? 0 : -1;
}

/* One frame line ("fun:X", "obj:X", "src:F[:L]", "...") into p. */
static int parse_frame(struct reader *r, const char *line, struct pattern *p)
{
    memset(p, 0, sizeof *p);
    if (strcmp(line, "...") == 0) {
        p->kind = PAT_ANY;
        return 0;
    }
    if (strncmp(line, "fun:", 4) == 0 || strncmp(line, "obj:", 4) == 0) {
        p->kind = line[0] == 'f' ? PAT_FUN : PAT_OBJ;
        if (!(p->text = strdup(line + 4)))
            return bad(r, "out of memory");
        return 0;
    }
    if (strncmp(line, "src:", 4) == 0)
        return parse_src(p, line + 4) == 0 ? 0 : bad(r, "out of memory");
    return bad(r, "a frame must be \"...\" or start with \"fun:\", \"obj:\" or \"src:\": '%s'",
               line);
}

static int add_pattern(struct reader *r, struct entry *e, const char *line)
{
    struct pattern *p;

    if (e->nframes == MAX_FRAMES)
        return bad(r, "too many frames in suppression '%s' (at most %d)", e->name, MAX_FRAMES);
    if (!(p = realloc(e->frames, (e->nframes + 1) * sizeof *p)))
        return bad(r, "out of memory");
    e->frames = p;
    if (parse_frame(r, line, &p[e->nframes]) != 0)
        return -1;
    e->nframes++;
    return 0;
}

/* After "Memcheck:Leak": the optional match-leak-kinds line, the frames
 * and the closing "}". */
static int parse_leak_body(struct reader *r, struct entry *e)
{
    const char *line = next_line(r);

    e->kinds = ALL_KINDS;
    if (line && strncmp(line, "match-leak-kinds:", 17) == 0) {
        const char *v = line + 17;
        while (isspace((unsigned char)*v))
            v++;
        if (parse_kinds(v, &e->kinds) != 0)
            return bad(r, "bad match-leak-kinds '%s' (use definite, indirect, possible, "
                          "reachable, all or none, separated by commas)", v);
        line = next_line(r);
    }
    for (; line && strcmp(line, "}") != 0; line = next_line(r))
        if (add_pattern(r, e, line) != 0)
            return -1;
    if (!line)
        return bad(r, "unexpected end of file inside suppression '%s'", e->name);
    if (e->nframes == 0)
        return bad(r, "suppression '%s' has no frames (fun:, obj:, src: or ...)", e->name);
    return 0;
}

/* The "Tool:Kind" line.  Returns 1 for Memcheck:Leak, 0 for an entry to
 * skip, -1 when malformed. */
static int parse_kind_line(struct reader *r, const char *line)
{
    const char *colon = strchr(line, ':');

    if (!colon || colon == line || !colon[1])
        return bad(r, "expected 'Tool:Kind' (e.g. Memcheck:Leak), got '%s'", line);
    if (!names_memcheck(line, (size_t)(colon - line)))
        return 0;
    if (!memcheck_kind(colon + 1))
        return bad(r, "unknown Memcheck suppression kind '%s'", colon + 1);
    return strcmp(colon + 1, "Leak") == 0;
}

static int parse_named(struct reader *r, struct ml_suppressions *s, struct entry *e);

/* One entry, after its "{".  Returns 0 or -1. */
static int parse_entry(struct reader *r, struct ml_suppressions *s)
{
    struct entry e = {0};
    const char *line = next_line(r);
    int rc;

    e.line = r->lineno;           /* the name's line, as valgrind's used_suppression says */

    if (!line)
        return bad(r, "unexpected end of file after '{'");
    if (!(e.file = strdup(r->path)))
        return bad(r, "out of memory");
    if (strcmp(line, "}") == 0 || strcmp(line, "{") == 0)
        rc = bad(r, "expected the suppression's name, got '%s'", line);
    else if (!(e.name = strdup(line)))
        rc = bad(r, "out of memory");
    else
        rc = parse_named(r, s, &e);
    entry_free(&e);
    return rc;
}

/* The rest of entry e, after its name. */
static int parse_named(struct reader *r, struct ml_suppressions *s, struct entry *e)
{
    const char *line;
    int rc;
    if (!(line = next_line(r)))
        rc = bad(r, "unexpected end of file inside suppression '%s'", e->name);
    else if ((rc = parse_kind_line(r, line)) == 0)
        rc = skip_entry(r);
    else if (rc == 1 && (rc = parse_leak_body(r, e)) == 0 && add_entry(s, e) != 0)
        rc = bad(r, "out of memory");
    return rc;
}

static int parse_stream(struct ml_suppressions *s, struct reader *r)
{
    const char *line;
    int rc = 0;

    while (rc == 0 && (line = next_line(r)) != NULL) {
        if (strcmp(line, "{") != 0)
            rc = bad(r, "expected '{' to start a suppression, got '%s'", line);
        else
            rc = parse_entry(r, s);
    }
    free(r->buf);
    return rc;
}

int ml_suppressions_load(struct ml_suppressions *s, const char *path, char *err, size_t errlen)
{
    struct reader r = {.path = path, .err = err, .errlen = errlen};

    if (!(r.f = fopen(path, "r"))) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    int rc = parse_stream(s, &r);
    if (rc == 0 && ferror(r.f)) {
        snprintf(err, errlen, "%s: read error", path);
        errno = EIO;
        rc = -1;
    }
    fclose(r.f);
    return rc;
}

int ml_suppressions_load_text(struct ml_suppressions *s, const char *name, const char *text,
                              char *err, size_t errlen)
{
    struct reader r = {.path = name, .err = err, .errlen = errlen};
    size_t len = strlen(text);

    if (len == 0)
        return 0;
    if (!(r.f = fmemopen((void *)text, len, "r"))) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return -1;
    }
    int rc = parse_stream(s, &r);
    fclose(r.f);
    return rc;
}

/* ---- matching ------------------------------------------------------------- */

int ml_supp_wildcard(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;

    while (*t) {
        if (*p == '*') {
            star = ++p;
            resume = t;
        } else if (*p == '?' || (*p == '\\' && p[1] && p[1] == *t) ||
                   (*p != '\\' && *p == *t)) {
            p += *p == '\\' ? 2 : 1;
            t++;
        } else if (star) {
            p = star;
            t = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int frame_matches(const struct pattern *p, const struct ml_frame_out *f)
{
    switch (p->kind) {
    case PAT_FUN:
        return ml_supp_wildcard(p->text, f->function ? f->function : "???") ||
               (f->mangled && ml_supp_wildcard(p->text, f->mangled)) ||
               (f->aliases[0] && ml_supp_wildcard(p->text, f->aliases[0])) ||
               (f->aliases[1] && ml_supp_wildcard(p->text, f->aliases[1])) ||
               (ml_below_main(f->function) && ml_supp_wildcard(p->text, "(below main)"));
    case PAT_OBJ:
        return ml_supp_wildcard(p->text, f->module ? f->module : "???");
    case PAT_SRC:
        return f->file && ml_supp_wildcard(p->text, base_name(f->file)) &&
               (p->line == 0 || p->line == f->line);
    case PAT_ANY:
        return 1;
    }
    return 0;
}

/* Do the patterns match the first of the n frames fr?  "..." stands for
 * any number of frames; the stack may go on after the last pattern. */
static int stack_matches(const struct entry *e, const struct ml_frame_out *const *fr, size_t n)
{
    size_t pi = 0, fi = 0, star_p = 0, star_f = 0;
    int have_star = 0;

    while (pi < e->nframes) {
        if (e->frames[pi].kind == PAT_ANY) {
            have_star = 1;
            star_p = ++pi;
            star_f = fi;
        } else if (fi < n && frame_matches(&e->frames[pi], fr[fi])) {
            pi++;
            fi++;
        } else if (have_star && star_f < n) {
            pi = star_p;
            fi = ++star_f;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Stacks show posix_memalign's blocks as valgrind does, memalign called by
 * posix_memalign; suppressions written before (fun:posix_memalign first)
 * match the stack without that memalign frame: 1 when fr has it. */
static int has_former_view(const struct ml_frame_out *const *fr, size_t n)
{
    return n >= 2 && fr[0]->function && fr[1]->function &&
           strcmp(fr[0]->function, "memalign") == 0 &&
           strcmp(fr[1]->function, "posix_memalign") == 0;
}

const char *ml_suppressions_match(const struct ml_suppressions *s, enum ml_leak_kind kind,
                                  const struct ml_stack_out *stack)
{
    return ml_suppressions_match_at(s, kind, stack, NULL, NULL);
}

const char *ml_suppressions_match_at(const struct ml_suppressions *s, enum ml_leak_kind kind,
                                     const struct ml_stack_out *stack, const char **file,
                                     int *line)
{
    const char *name = NULL;

    if (!s || !stack || (unsigned)kind >= ML_LK_COUNT)
        return NULL;
    const struct ml_frame_out **fr = ml_stack_view(stack);
    size_t n = fr ? stack->nframes : 0;
    int former = has_former_view(fr, n);
    for (size_t i = 0; i < s->n && !name; i++)
        if ((s->entries[i].kinds & (1u << kind)) &&
            (stack_matches(&s->entries[i], fr, n) ||
             (former && stack_matches(&s->entries[i], fr + 1, n - 1)))) {
            name = s->entries[i].name;
            if (file) *file = s->entries[i].file;
            if (line) *line = s->entries[i].line;
        }
    free(fr);
    return name;
}

size_t ml_suppression_frames(const struct ml_stack_out *st)
{
    uint32_t node = st->top;
    for (size_t i = 0; i < st->nframes; i++) {
        const struct ml_frame_out *f = ml_stack_node(st->tab, node, &node);
        if (f->function && strcmp(f->function, "main") == 0 && !f->inlined)
            return i + 1;
    }
    return st->nframes;
}

const char *ml_suppression_frame(const struct ml_frame_out *f, int *is_fun)
{
    const char *fn = f->mangled ? f->mangled : f->function;
    *is_fun = fn != NULL;
    return fn ? fn : f->module ? f->module : "*";
}
