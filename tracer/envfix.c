/* envfix.c - re-adding the shim to an exec'ed environment (see envfix.h). */
#include "envfix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include "memlens/session.h"
#include "snapshot.h"

#define MAX_ENV 65536
#define MAX_STR 131072
#define RED_ZONE 128

static int peek(int tid, uint64_t addr, void *buf, size_t len)
{
    struct iovec l = {buf, len}, r = {(void *)addr, len};
    return process_vm_readv(tid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static int poke(int tid, uint64_t addr, const void *buf, size_t len)
{
    struct iovec l = {(void *)buf, len}, r = {(void *)addr, len};
    return process_vm_writev(tid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

char *ml_tracee_string(int tid, uint64_t addr)
{
    char *s = malloc(MAX_STR + 1);
    size_t n = 0;
    while (s && n < MAX_STR) {
        size_t chunk = 256 - (addr + n) % 256;      /* never cross into an unmapped page */
        if (n + chunk > MAX_STR) chunk = MAX_STR - n;
        if (peek(tid, addr + n, s + n, chunk) != 0) break;
        if (memchr(s + n, '\0', chunk)) return s;
        n += chunk;
    }
    free(s);
    return NULL;
}

static int read_envp(int tid, uint64_t envp, uint64_t **out, size_t *n)
{
    uint64_t *v = malloc(MAX_ENV * sizeof *v);
    size_t k = 0;
    if (!v) return -ENOMEM;
    /* a page's worth of pointers a read (never into the next page, which
     * may be unmapped), not one read a pointer */
    while (envp && k < MAX_ENV - 1) {
        uint64_t at = envp + 8 * k;
        size_t room = (4096 - at % 4096) / 8, j = 0;
        if (room == 0) room = 1;
        if (room > MAX_ENV - 1 - k) room = MAX_ENV - 1 - k;
        if (peek(tid, at, &v[k], 8 * room) != 0) break;
        while (j < room && v[k + j]) j++;
        k += j;
        if (j < room) break;                 /* the terminating NULL */
    }
    *out = v;
    *n = k;
    return 0;
}

/* Entries to add: the session options when absent, LD_PRELOAD with the shim
 * in front when it lacks it (its old pointer then gets dropped: *drop). */
static int needed(int tid, const uint64_t *env, size_t n, const struct ml_envfix *fix,
                  char **preload, char **session, long *drop)
{
    int have_session = 0;
    const char *old_preload = NULL;
    char *keep = NULL;
    *drop = -1;
    for (size_t i = 0; i < n; i++) {
        char *s = ml_tracee_string(tid, env[i]);
        if (!s) continue;
        if (strncmp(s, ML_ENV_SESSION "=", strlen(ML_ENV_SESSION) + 1) == 0) have_session = 1;
        if (strncmp(s, "LD_PRELOAD=", 11) == 0 && *drop < 0) {
            *drop = (long)i;
            free(keep);
            keep = s;
            old_preload = s + 11;
            continue;
        }
        free(s);
    }
    *session = have_session ? NULL : strdup(fix->session);
    *preload = NULL;
    if (!old_preload || !strstr(old_preload, fix->shim)) {
        if (asprintf(preload, "LD_PRELOAD=%s%s%s", fix->shim, old_preload && *old_preload ? ":" : "",
                     old_preload ? old_preload : "") < 0)
            *preload = NULL;
    } else {
        *drop = -1;                      /* the shim is there: keep that entry */
    }
    free(keep);
    return 0;
}

/* Write the added strings and the new array below the stack pointer. */
static int write_env(int tid, uint64_t *regs, int envp_reg, const uint64_t *env, size_t n,
                     const long drop[2], char *const add[2])
{
    size_t slen[2] = {add[0] ? strlen(add[0]) + 1 : 0, add[1] ? strlen(add[1]) + 1 : 0};
    size_t count = n + 2 + 1, bytes = slen[0] + slen[1] + count * 8;
    uint64_t base = (regs[ML_REG_SP] - RED_ZONE - bytes - 64) & ~15ull, at = base;
    uint64_t *arr = calloc(count, 8);
    size_t k = 0;
    if (!arr) return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((long)i != drop[0] && (long)i != drop[1]) arr[k++] = env[i];
    for (int j = 0; j < 2; j++)
        if (add[j]) {
            int rc = poke(tid, at, add[j], slen[j]);
            if (rc) { free(arr); return rc; }
            arr[k++] = at;
            at += slen[j];
        }
    arr[k++] = 0;
    at = (at + 15) & ~15ull;
    int rc = poke(tid, at, arr, k * 8);
    free(arr);
    if (rc) return rc;
    regs[envp_reg] = at;
    return ptrace(PTRACE_SETREGS, tid, 0, regs) == 0 ? 0 : -errno;
}

int ml_envfix_execve(int tid, uint64_t *regs, int envp_reg, const struct ml_envfix *fix)
{
    uint64_t *env = NULL;
    size_t n = 0;
    char *add[2] = {NULL, NULL};
    long drop[2] = {-1, -1};
    int rc = read_envp(tid, regs[envp_reg], &env, &n);
    if (rc == 0) rc = needed(tid, env, n, fix, &add[0], &add[1], &drop[0]);
    if (rc == 0 && (add[0] || add[1])) rc = write_env(tid, regs, envp_reg, env, n, drop, add) ?: 1;
    free(env);
    free(add[0]);
    free(add[1]);
    return rc;
}

/* "LD_PRELOAD=list" without the entry shim, or NULL when nothing is left. */
static char *preload_without(const char *entry, const char *shim)
{
    const char *list = entry + strlen(ML_ENV_PRELOAD) + 1;
    char *out = malloc(strlen(entry) + 1);
    if (!out) return NULL;
    size_t k = (size_t)sprintf(out, "%s=", ML_ENV_PRELOAD), start = k;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ": ");
        if (len && !(len == strlen(shim) && strncmp(p, shim, len) == 0)) {
            if (k > start) out[k++] = ':';
            memcpy(out + k, p, len);
            k += len;
        }
        p += len + (p[len] != '\0');
    }
    out[k] = '\0';
    if (k == start) { free(out); return NULL; }
    return out;
}

int ml_envfix_strip(int tid, uint64_t *regs, int envp_reg, const struct ml_envfix *fix)
{
    uint64_t *env = NULL;
    size_t n = 0;
    char *add[2] = {NULL, NULL};
    long drop[2] = {-1, -1};
    int rc = read_envp(tid, regs[envp_reg], &env, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *s = ml_tracee_string(tid, env[i]);
        if (!s) continue;
        if (strncmp(s, ML_ENV_SESSION "=", strlen(ML_ENV_SESSION) + 1) == 0) drop[1] = (long)i;
        else if (strncmp(s, ML_ENV_PRELOAD "=", strlen(ML_ENV_PRELOAD) + 1) == 0 &&
                 drop[0] < 0 && strstr(s, fix->shim)) {
            drop[0] = (long)i;
            add[0] = preload_without(s, fix->shim);
        }
        free(s);
    }
    if (rc == 0 && (drop[0] >= 0 || drop[1] >= 0))
        rc = write_env(tid, regs, envp_reg, env, n, drop, add) ?: 1;
    free(env);
    free(add[0]);
    return rc;
}
