/* filepattern.c - expanding valgrind's file name patterns (see filepattern.h). */
#include "filepattern.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errors.h"

struct given { const char *pattern; int pid; char *name; };
static struct given *given;     /* every name handed out: %n skips them, and the */
static size_t ngiven;           /* same pattern and pid get the same name again */

struct sbuf { char *s; size_t len, cap; int oom; };

static void put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (!grown) { b->oom = 1; return; }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* The %q{VAR} at p (just after "%q"): its value, and *end past the '}'. */
static const char *env_value(const char *p, const char **end)
{
    if (*p != '{') return ml_error("expected '{' after '%%q'"), NULL;
    const char *close = strchr(p, '}');
    if (!close) return ml_error("missing '}' in %%q specifier"), NULL;
    char name[256];
    size_t n = (size_t)(close - p - 1);
    if (n == 0 || n >= sizeof name)
        return ml_error("bad variable name in %%q specifier"), NULL;
    memcpy(name, p + 1, n);
    name[n] = '\0';
    const char *v = getenv(name);
    if (!v) return ml_error("environment variable '%s' is not set", name), NULL;
    *end = close + 1;
    return v;
}

/* pattern with pid and sequence number seq; NULL with ml_error set. */
static char *expand(const char *pattern, int pid, unsigned seq)
{
    struct sbuf b = {0};
    char num[32];
    if (!*pattern) return ml_error("empty file name"), NULL;
    put(&b, "", 0);
    for (const char *p = pattern; *p;) {
        const char *pct = strchr(p, '%');
        size_t lit = pct ? (size_t)(pct - p) : strlen(p);
        put(&b, p, lit);
        p += lit;
        if (!pct) break;
        char c = p[1];
        p += 2;
        if (c == '%') put(&b, "%", 1);
        else if (c == 'p' || c == 'n') {
            int n = snprintf(num, sizeof num, "%u", c == 'p' ? (unsigned)pid : seq);
            put(&b, num, (size_t)n);
        } else if (c == 'q') {
            const char *v = env_value(p, &p);
            if (!v) { free(b.s); return NULL; }
            put(&b, v, strlen(v));
        } else {
            free(b.s);
            return ml_error("expected 'p', 'n', 'q' or '%%' after '%%'"), NULL;
        }
    }
    if (b.oom) { free(b.s); return ml_error("out of memory"), NULL; }
    return b.s;
}

int ml_file_pattern_check(const char *pattern)
{
    char *s = expand(pattern, 1, 1);
    free(s);
    return s ? 0 : -1;
}

int ml_file_pattern_dir_writable(const char *pattern)
{
    const char *slash = strrchr(pattern, '/');
    size_t n = slash ? (size_t)(slash - pattern) : 0;
    char dir[4096];
    if (memchr(pattern, '%', n) || n >= sizeof dir) return 0;   /* not known before the run */
    memcpy(dir, pattern, n);
    dir[n] = '\0';
    if (access(slash ? (n ? dir : "/") : ".", W_OK | X_OK) == 0) return 0;
    ml_error("cannot write %s: %s", pattern, strerror(errno));
    return -1;
}

int ml_file_pattern_per_process(const char *pattern)
{
    for (const char *p = strchr(pattern, '%'); p && p[1]; p = strchr(p + 2, '%'))
        if (p[1] == 'p' || p[1] == 'n') return 1;
    return 0;
}

static int was_given(const char *name)
{
    for (size_t i = 0; i < ngiven; i++)
        if (strcmp(given[i].name, name) == 0) return 1;
    return 0;
}

static const char *given_before(const char *pattern, int pid)
{
    for (size_t i = 0; i < ngiven; i++)
        if (given[i].pid == pid && strcmp(given[i].pattern, pattern) == 0) return given[i].name;
    return NULL;
}

char *ml_expand_file_pattern(const char *pattern, int pid)
{
    const char *before = given_before(pattern, pid);
    if (before) {
        char *again = strdup(before);
        return again ? again : (ml_error("out of memory"), NULL);
    }
    int has_seq = strstr(pattern, "%n") != NULL;   /* "%%n" only costs a retry */
    char *name = NULL;
    for (unsigned seq = 1;; seq++) {
        free(name);
        if (!(name = expand(pattern, pid, seq))) return NULL;
        if (!has_seq || !was_given(name) || seq == 1u << 20) break;
    }
    struct given *grown = realloc(given, (ngiven + 1) * sizeof *given);
    char *copy = strdup(name), *pat = strdup(pattern);
    if (grown) given = grown;
    if (!grown || !copy || !pat) {
        free(copy);
        free(pat);
        free(name);
        return ml_error("out of memory"), NULL;
    }
    given[ngiven++] = (struct given){pat, pid, copy};
    return name;
}
