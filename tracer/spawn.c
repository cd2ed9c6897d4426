/* spawn.c - program lookup, shim lookup and the traced child (see spawn.h). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errors.h"
#include "memlens/session.h"
#include "seccomp.h"

extern char **environ;

static int is_executable_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -errno;
    if (S_ISDIR(st.st_mode)) return -EACCES;
    return access(path, X_OK) == 0 ? 0 : -errno;
}

char *ml_find_program(const char *name)
{
    if (!*name) {                  /* as a shell: no such command */
        errno = ENOENT;
        return NULL;
    }
    if (strchr(name, '/')) {
        int rc = is_executable_file(name);
        if (rc == 0) return strdup(name);
        errno = rc == -ENOENT || rc == -ENOTDIR ? ENOENT : EACCES;
        return NULL;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    int saw_eacces = 0;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", name) < (int)sizeof buf) {
            int rc = is_executable_file(buf);
            if (rc == 0) return strdup(buf);
            if (rc == -EACCES) saw_eacces = 1;
        }
        p += len + (p[len] == ':');
    }
    errno = saw_eacces ? EACCES : ENOENT;
    return NULL;
}

/* The installed file `name` of directory `dir` (pkglibdir, pkgdatadir) for
 * a memlens that runs from exe_dir: bindir and dir keep their places
 * relative to their common root (the prefix), so a tree installed with
 * DESTDIR or moved whole still finds its own files.  NULL when exe_dir is
 * not a bindir or the file is not there. */
static char *relocated(const char *exe_dir, const char *dir, const char *name)
{
    const char *bin = ML_BINDIR;
    size_t root = 0;                      /* length of their common directory prefix */
    for (size_t i = 0; bin[i] && bin[i] == dir[i]; i++)
        if (bin[i] == '/') root = i;
    size_t bin_rel = strlen(bin + root), dir_len = strlen(exe_dir);
    if (bin_rel > dir_len || strcmp(exe_dir + dir_len - bin_rel, bin + root) != 0) return NULL;
    char *path;
    if (asprintf(&path, "%.*s%s/%s", (int)(dir_len - bin_rel), exe_dir, dir + root, name) < 0)
        return NULL;
    if (access(path, R_OK) == 0) return path;
    free(path);
    return NULL;
}

/* The directory memlens runs from, or NULL. */
static char *exe_dir(void)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return NULL;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    return strdup(exe);
}

/* build_rel (relative to the build tree's tracer/), else the installed
 * name in dir (relocated, then where configure put it). */
static char *find_file(const char *build_rel, const char *dir, const char *name)
{
    char buf[PATH_MAX + 64], *real = NULL, *from = exe_dir();
    if (from) {
        snprintf(buf, sizeof buf, "%s/../%s", from, build_rel);
        if (!(real = realpath(buf, NULL))) real = relocated(from, dir, name);
        free(from);
        if (real) return real;
    }
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return access(buf, R_OK) == 0 ? strdup(buf) : NULL;
}

/* MEMLENS_SHIM, else the build tree's shim next to a memlens run from the
 * build tree, else the installed one (relocated, then where configure put it). */
char *ml_find_shim(void)
{
    const char *env = getenv("MEMLENS_SHIM");
    if (env && *env) return access(env, R_OK) == 0 ? strdup(env) : NULL;
    return find_file("preload/.libs/libmemlens.so", ML_PKGLIBDIR, "libmemlens.so");
}

char *ml_find_default_suppressions(void)
{
    char *path = find_file("data/default.supp", ML_PKGDATADIR, "default.supp");
    if (path || access(ML_TOP_SRCDIR "/data/default.supp", R_OK) != 0) return path;
    return strdup(ML_TOP_SRCDIR "/data/default.supp");   /* a build out of the source tree */
}

unsigned long ml_ptrace_options(void)
{
    return PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
           PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
           PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;
}

/* The shim's options.  MEMLENS_ZERO=0 (for bench/: what zeroing new
 * blocks costs) hands blocks out as the allocator left them. */
char *ml_session_env(const struct ml_spawn_config *cfg)
{
    const char *zero = getenv("MEMLENS_ZERO");
    char *s;
    if (asprintf(&s, "%s=frames=%d,fds=%d%s", ML_ENV_SESSION, cfg->num_callers, cfg->track_fds,
                 zero && strcmp(zero, "0") == 0 ? ",zero=0" : "") < 0)
        return NULL;
    return s;
}

/* environ plus LD_PRELOAD=shim[:old] and MEMLENS_SESSION=options. */
static char **target_env(const struct ml_spawn_config *cfg)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env) return NULL;
    const char *old = getenv(ML_ENV_PRELOAD);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], ML_ENV_PRELOAD "=", strlen(ML_ENV_PRELOAD) + 1) != 0 &&
            strncmp(environ[i], ML_ENV_SESSION "=", strlen(ML_ENV_SESSION) + 1) != 0)
            env[k++] = environ[i];
    if (asprintf(&env[k++], "%s=%s%s%s", ML_ENV_PRELOAD, cfg->shim, old && *old ? ":" : "",
                 old ? old : "") < 0 ||
        !(env[k++] = ml_session_env(cfg)))
        return NULL;
    return env;
}

/* In the child: wait until seized, install the filter, exec. Never returns. */
static void child_main(const struct ml_spawn_config *cfg, char **env, int gate, int errfd)
{
    char c;
    while (read(gate, &c, 1) < 0 && errno == EINTR) {}
    int err = 0;
    int rc = ml_seccomp_install();
    if (rc == 0) {
        execve(cfg->path, cfg->argv, env);
        err = errno;
    } else {
        err = -rc;
    }
    while (write(errfd, &err, sizeof err) < 0 && errno == EINTR) {}
    _exit(err == ENOENT ? ML_EXIT_NOT_FOUND : ML_EXIT_CANNOT_EXEC);
}

int ml_spawn(const struct ml_spawn_config *cfg, int *exec_errfd)
{
    char **env = target_env(cfg);
    int gate[2], errp[2];
    if (!env) return -ENOMEM;
    if (pipe2(gate, O_CLOEXEC) != 0) return -errno;
    if (pipe2(errp, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        close(gate[1]);
        close(errp[0]);
        child_main(cfg, env, gate[0], errp[1]);
    }
    close(gate[0]);
    close(errp[1]);
    if (ptrace(PTRACE_SEIZE, pid, 0, ml_ptrace_options()) != 0) {
        int err = errno;
        ml_error("cannot trace %s: %s%s", cfg->path, strerror(err),
                 err == EPERM ? " (check /proc/sys/kernel/yama/ptrace_scope)" : "");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(gate[1]);
        close(errp[0]);
        return -err;
    }
    close(gate[1]);                /* lets the child go on to exec */
    *exec_errfd = errp[0];
    return pid;
}
